"""Carrier adapters: one interface to book, cancel and read each carrier's tracking codes."""
