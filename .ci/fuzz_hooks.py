"""Schemathesis hooks for .ci/fuzz-api: make the fuzzer behave as the API contract asks clients to.

Idempotency keys. The contract (like the IETF Idempotency-Key draft) says a client sends a fresh
Idempotency-Key for each distinct request; reusing a key for a different request is answered 422
on purpose. Hypothesis draws the same short keys again and again, so left alone the fuzzer would
break that rule and report the deliberate 422. This hook replaces every well-formed key of a
positive test case with a fresh one just before the call. Negative cases, and any malformed key,
are left as generated, so the service must still reject them. Replay and reuse semantics are
covered by the Rust tests (tests/it/api_idempotency.rs).

Header classification. Schemathesis 4.32.5's coverage phase fills an optional header it cannot
generate from its pattern with a placeholder (`If-Match: 0`) yet labels the case positive. The
hook asks schemathesis to validate the headers of every positive case against the document before
the call, so such a case is judged by what it really is (negative) rather than by its label. No
value is changed by this; only the classification is checked.
"""

import re
import uuid

import schemathesis
from schemathesis.core.parameters import ParameterLocation

HEADER = "idempotency-key"
# The format the OpenAPI document declares for the header: printable ASCII, no surrounding
# blanks, at most 255 characters.
WELL_FORMED = re.compile(r"[!-~]([ -~]*[!-~])?")
MAX_LEN = 255


@schemathesis.hook
def before_call(context, case, kwargs):
    meta = case.meta
    # A negative case is left exactly as generated: editing it would make schemathesis revalidate
    # it as positive and stop removing the header it meant to leave out (e.g. Authorization).
    # The service answers a reused key with 422, which a negative case expects anyway.
    if meta is None or meta.generation.mode.is_negative:
        return
    headers = case.headers
    if not headers:
        return
    if ParameterLocation.HEADER in meta.components:
        meta.mark_dirty(ParameterLocation.HEADER)
    for name in list(headers):
        if name.lower() != HEADER:
            continue
        value = headers[name]
        if isinstance(value, str) and len(value) <= MAX_LEN and WELL_FORMED.fullmatch(value):
            headers[name] = f"fuzz-{uuid.uuid4().hex}"
