"""Deliberately faulty Billing Connector plugins: the conformance kit must fail each."""
