"""xborder's shared runtime kit. It holds no business types."""
