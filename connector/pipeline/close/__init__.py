"""Close: when a period is final, and what prices it from then on.

Enters: a tenant, provider and period, and the first of three signals: the provider
marked its data final, an operator said so, or the business days after the period's
end passed. Leaves: the period's close, naming its signal, with the configuration that
prices the period recorded beside it (``period_config``: a closed month stays closed).
``finality`` tells whether a period is final and why without recording anything.
"""
