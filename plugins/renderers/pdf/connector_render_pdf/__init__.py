"""Billing Connector's PDF renderer: a customer statement laid out with ReportLab platypus."""
