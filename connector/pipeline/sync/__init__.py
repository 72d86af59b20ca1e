"""Sync: the ERP's payment status back onto statements.

Enters: delivered statements still unpaid, the ERP sink, today's date. Leaves: Closed
statements (the ERP says paid) and Past Due ones (unpaid after their due date), audited.
"""
