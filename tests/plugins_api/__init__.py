"""What plugin authors rely on: the plugin API version, the scaffold, the public surface."""
