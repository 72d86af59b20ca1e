"""Review: what a person decides about statements once they are built.

Enters: stored statements, named by id, unique id prefix or invoice number
(``approve.find_statements``). Leaves: approved statements, Open with the next gapless
invoice number and an outbox row each (``approve``); later status changes, Open to
Closed or Past Due (``lifecycle``); voided statements with their credit notes
(``void``). Every change is in the audit trail. Deleting a Draft is the build's
(``build.delete_draft``): a Draft is the build's to make, remake and take back.
"""
