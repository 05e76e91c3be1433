"""Payment method adapters: one interface, a sandbox provider per method."""
