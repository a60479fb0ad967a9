"""Guardrails: scanners for prompts and outputs, use-case policies that turn findings into
verdicts, context rules, streaming checks and a hash-chained audit trail.

Quick start::

    from probity.guard import Guard, PiiVault

    guard = Guard.from_policy("default")
    vault = PiiVault()
    v = guard.check("Call Anna Berg on +44 20 7946 0958", direction="input", vault=vault)
    v.action, v.text          # ('redact', 'Call <PERSON_1> on <PHONE_NUMBER_1>')
    vault.restore("I will call <PERSON_1>.")   # 'I will call Anna Berg.'
"""

from probity.guard.audit import AuditLog, AuditVerification, audit_record
from probity.guard.base import (
    ScanContext,
    Scanner,
    create_scanner,
    register_scanner,
    scan_one,
    scanner_names,
)
from probity.guard.context import labelled_regions, opinion_spans, quotation_spans
from probity.guard.guard import Guard, StreamChecker
from probity.guard.policy import (
    Policy,
    ScannerRule,
    load_policy,
    policy_from_text,
    shipped_policies,
)
from probity.guard.redact import PiiVault, apply_redactions, decrypt_token

__all__ = [
    "AuditLog",
    "AuditVerification",
    "Guard",
    "PiiVault",
    "Policy",
    "ScanContext",
    "Scanner",
    "ScannerRule",
    "StreamChecker",
    "apply_redactions",
    "audit_record",
    "create_scanner",
    "decrypt_token",
    "labelled_regions",
    "load_policy",
    "opinion_spans",
    "policy_from_text",
    "quotation_spans",
    "register_scanner",
    "scan_one",
    "scanner_names",
    "shipped_policies",
]
