"""An example third-party Billing Connector plugin: statements rendered as Markdown."""
