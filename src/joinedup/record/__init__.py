"""The shared care record: feeds, deliveries, quarantine, provenance and clinical facts.

Every row a source system sends is either accepted, with its provenance, or kept in
quarantine with the file, line, field and reason: nothing is lost. Facts hang off the
source identity they came with (``people.SourceIdentity``), so linking and unlinking
identities never touches a fact.
"""
