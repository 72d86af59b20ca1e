"""Billing Connector's PDF renderer: a customer statement laid out in two passes
(measure and break pages, then draw) on a ReportLab canvas."""
