"""Billing Connector's CSV ERP sink: import files for accounting systems, written exactly once."""
