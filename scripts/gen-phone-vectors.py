#!/usr/bin/env python3
"""Generate phone-number test vectors for crmsync's own PhoneNormalizer.

The Python `phonenumbers` package (libphonenumber's port) is used ONLY as an offline test
oracle here: crmsync never depends on it at run time, and the Swift tests read the committed
JSON output without needing Python.

    pip install phonenumbers
    python3 scripts/gen-phone-vectors.py > Tests/NormalizersTests/Vectors/phone-vectors.json

Each vector is {input, region, expected, oracle, kind[, reason]}:
  - oracle:   what phonenumbers says (E.164 when parse() succeeds and is_valid_number() is true,
              else "invalid");
  - expected: what crmsync must produce. It equals the oracle except where crmsync's documented
              policy deliberately differs; then `reason` says which policy and why.
The output is deterministic (fixed seed) so regenerating gives a reviewable diff.
"""

import json
import random
import sys

import phonenumbers as pn
from phonenumbers import PhoneNumberFormat as F
from phonenumbers import PhoneNumberType as T

REGIONS = ["US", "CA", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "JP", "AU", "BR", "MX"]
TYPES = [T.FIXED_LINE, T.MOBILE, T.TOLL_FREE, T.PREMIUM_RATE, T.SHARED_COST, T.VOIP,
         T.PERSONAL_NUMBER, T.UAN]
# How a caller in each region dials abroad (crmsync supports one prefix per region; Brazil needs a
# carrier selection code after 00, here 21).
DIAL_OUT = {"US": "011", "CA": "011", "GB": "00", "DE": "00", "FR": "00", "ES": "00", "IT": "00",
            "NL": "00", "IN": "00", "JP": "010", "AU": "0011", "BR": "0021", "MX": "00"}
TRUNK = {"US": "1", "CA": "1", "GB": "0", "DE": "0", "FR": "0", "NL": "0", "IN": "0", "JP": "0",
         "AU": "0", "BR": "0"}

rng = random.Random(20261125)


def oracle(text, region):
    try:
        number = pn.parse(text, region)
    except pn.NumberParseException:
        return "invalid"
    if not pn.is_valid_number(number):
        return "invalid"
    return pn.format_number(number, F.E164)


# Where crmsync's documented policy differs from the oracle. Rules first (they cover whole
# classes of input), then single vectors found while cross-checking, each with its reason.
def policy(text, region, oracle_value):
    lowered = text.lower()
    body = lowered
    for marker in ("extension", "ext.", "ext", ";ext=", "x", "#", "tel:"):
        body = body.replace(marker, "")
    if any(c.isalpha() for c in body) and oracle_value != "invalid":
        return "invalid", ("letters are rejected: crmsync does not convert vanity numbers "
                           "(1-800-FLOWERS) because in CRM data letters mean a typo or a note")
    digits = "".join(c for c in text if c.isdigit())
    if oracle_value == "invalid" and text.startswith("+") and text.count("+") == 1:
        for (wide_region, cc, prefix), (lengths, note) in WIDE_PREFIXES.items():
            nsn = digits[len(cc):]
            if region == wide_region and digits.startswith(cc + prefix) and len(nsn) in lengths:
                return "+" + digits, RANGE_REASON + " (" + note + ")"
    if oracle_value.startswith("+1") and len(oracle_value) == 9:
        return "invalid", ("NANP numbers must have all 10 digits: a 7-digit number (Canada's 310-XXXX "
                           "service numbers, or a local number without its area code) cannot identify a "
                           "person across regions, so crmsync rejects it")
    return OVERRIDES.get((text, region), (None, None))


RANGE_REASON = ("crmsync validates national number length by leading digits, not allocated "
                "ranges: a well-formed but unallocated number is accepted")

# Individual documented differences: (input, region) -> (expected, reason).
OVERRIDES = {
    # Ofcom's 07700 900xxx range is reserved for TV and film; well-formed, so accepted (and
    # harmless: nobody's real number).
    ("07700 900123", "GB"): ("+447700900123", RANGE_REASON),
    ("+44 (0) 7700 900123", "FR"): ("+447700900123", RANGE_REASON),
}
# Prefixes whose lengths crmsync deliberately keeps wider than the allocated ranges, because the
# real plans mix lengths there: rejecting a real customer's number is worse than accepting an
# unallocated one. (region, country code, national prefix) -> (national lengths, note).
WIDE_PREFIXES = {
    ("GB", "44", "1"): ({9}, "UK 01 numbers have 9 or 10 digits depending on the area"),
    ("NL", "31", "14"): ({5, 6}, "Dutch 14xxx municipal numbers have 5 or 6 digits depending on the town"),
}


def sample_numbers(region):
    """Valid numbers of several types: the oracle's example plus variants with random tails."""
    numbers = []
    for number_type in TYPES:
        example = pn.example_number_for_type(region, number_type)
        if example is None:
            continue
        nsn = pn.national_significant_number(example)
        found = [example]
        for _ in range(40):
            if len(found) >= 2:
                break
            tail = "".join(rng.choice("0123456789") for _ in range(min(4, len(nsn) - 2)))
            candidate_nsn = nsn[: len(nsn) - len(tail)] + tail
            candidate = pn.parse("+%d%s" % (example.country_code, candidate_nsn), None)
            if pn.is_valid_number(candidate) and pn.region_code_for_number(candidate) == region:
                if all(pn.format_number(c, F.E164) != pn.format_number(candidate, F.E164) for c in found):
                    found.append(candidate)
        numbers.extend((number_type, n) for n in found)
    return numbers


def formats(number, region):
    """(input, region used to parse, kind) in the ways people write numbers."""
    e164 = pn.format_number(number, F.E164)
    intl = pn.format_number(number, F.INTERNATIONAL)
    national = pn.format_number(number, F.NATIONAL)
    nsn = pn.national_significant_number(number)
    cc = str(number.country_code)
    other = rng.choice([r for r in REGIONS if r != region])
    out = [
        (e164, other, "e164"),
        (intl, other, "international"),
        (national, region, "national"),
        (national.replace(" ", "."), region, "national-dots"),
        ("".join(c for c in national if c.isdigit()), region, "national-digits"),
        (intl.replace(" ", "-"), region, "international-dashes"),
        (DIAL_OUT[other] + " " + intl.lstrip("+"), other, "dialled-from-" + other),
        ("tel:" + intl.replace(" ", "-"), other, "rfc3966"),
        ("  " + national + "  ", region, "whitespace"),
        (intl + " ext. " + str(rng.randint(1, 9999)), other, "extension-ext"),
        (national + " x" + str(rng.randint(1, 999)), region, "extension-x"),
    ]
    if region in TRUNK and TRUNK[region] == "0":
        rest = intl[len(cc) + 2:]
        out.append(("+" + cc + " (0)" + rest, other, "international-trunk-in-parens"))
    if region in ("US", "CA"):
        out.append(("(%s) %s-%s" % (nsn[:3], nsn[3:6], nsn[6:]), region, "nanp-parens"))
        out.append(("1-%s-%s-%s" % (nsn[:3], nsn[3:6], nsn[6:]), region, "nanp-trunk"))
    if region == "JP":
        wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else ("－" if c == "-" else c) for c in national)
        out.append((wide, region, "fullwidth-digits"))
    return out


def invalid_inputs(region, numbers):
    """Inputs that are not numbers: the oracle must say invalid, and so must we."""
    out = []
    _, number = numbers[0]
    nsn = pn.national_significant_number(number)
    cc = str(number.country_code)
    out.append(("+" + cc + nsn[:3], region, "too-short"))
    out.append(("+" + cc + nsn + "1234567", region, "too-long"))
    out.append((nsn[:4], region, "too-short-national"))
    out.append(("+" + cc + " " + nsn[:-3] + "ABC", region, "letters"))
    out.append(("call me: " + nsn, region, "prose"))
    out.append(("+" + cc + "+" + nsn, region, "double-plus"))
    return out


GENERIC_INVALID = [
    ("", "US", "empty"), ("   ", "GB", "blank"), ("+", "US", "plus-only"), ("n/a", "US", "placeholder"),
    ("null", "DE", "placeholder"), ("12", "FR", "two-digits"), ("+0 123 456 789", "US", "cc-zero"),
    ("1-800-FLOWERS", "US", "vanity"), ("+1 (800) FLOWERS", "CA", "vanity"),
    ("(415) 555-01O1", "US", "letter-o-for-zero"), ("415 555 0101 555 0101", "US", "two-numbers"),
    ("+44 20 7946 0958 / +44 20 7946 0959", "GB", "two-numbers"), ("0000000000", "US", "zeros"),
    ("+1 000 000 0000", "US", "zeros"), ("+1 415 155 0199", "US", "nanp-exchange-1"),
    ("+1 911 555 0199", "US", "nanp-n11-area"), ("+1 555 555 5555", "US", "nanp-555-area"),
    ("+1 415 555 010", "US", "nanp-9-digits"), ("0044 20 7946 0958", "US", "wrong-dial-out-prefix"),
    ("00 1 415 555 0101", "BR", "brazil-needs-carrier-code"), ("+44 20 7946 095", "GB", "gb-too-short"),
    ("+33 1 23 45 67 8", "FR", "fr-too-short"), ("+34 91 123 45 6", "ES", "es-too-short"),
    ("+91 98765 4321", "IN", "in-too-short"), ("+61 2 9876 543", "AU", "au-too-short"),
    ("+52 55 1234 567", "MX", "mx-too-short"), ("044 55 1234 5678", "MX", "mx-legacy-prefix"),
    ("+81 90 1234 567", "JP", "jp-too-short"), ("+31 6 1234 567", "NL", "nl-too-short"),
]

# Realistic spellings of well-known numbers (documentation examples of each regulator).
HANDWRITTEN = [
    ("(415) 555-0101", "US"), ("415.555.0101", "US"), ("+1 415 555 0101", "US"), ("001 415 555 0101", "GB"),
    ("011 44 20 7946 0958", "US"), ("0044 20 7946 0958", "DE"), ("020 7946 0958", "GB"),
    ("+44 (0)20 7946 0958", "US"), ("+44 (0) 7700 900123", "FR"), ("07700 900123", "GB"),
    ("030 123456", "DE"), ("+49 (0)30 123456", "US"), ("0151 23456789", "DE"), ("+49 1512 3456789", "GB"),
    ("01 23 45 67 89", "FR"), ("06 12 34 56 78", "FR"), ("+33 (0)6 12 34 56 78", "GB"),
    ("912 345 678", "ES"), ("+34 612 34 56 78", "US"), ("06 1234 5678", "IT"), ("+39 06 1234 5678", "US"),
    ("0039 06 1234 5678", "FR"), ("312 345 6789", "IT"), ("+39 312 345 6789", "DE"),
    ("020 123 4567", "NL"), ("06-12345678", "NL"), ("+31 (0)20 123 4567", "GB"),
    ("098765 43210", "IN"), ("+91 98765 43210", "US"), ("011 2345 6789", "IN"),
    ("03-1234-5678", "JP"), ("090-1234-5678", "JP"), ("010 81 3 1234 5678", "JP"), ("+81 3-1234-5678", "US"),
    ("(02) 9876 5432", "AU"), ("0412 345 678", "AU"), ("0011 61 2 9876 5432", "AU"), ("+61 412 345 678", "GB"),
    ("(11) 91234-5678", "BR"), ("(21) 2345-6789", "BR"), ("0 21 11 91234 5678", "BR"), ("+55 11 91234 5678", "US"),
    ("55 1234 5678", "MX"), ("+52 55 1234 5678", "US"), ("+52 1 55 1234 5678", "MX"),
    ("+1 416 555 0199", "CA"), ("(604) 555-0123", "CA"), ("1 (800) 555-0199", "US"), ("415-555-0101 x123", "US"),
    ("415 555 0101 ext. 123", "US"), ("415 555 0101#123", "US"), ("tel:+1-415-555-0101;ext=42", "US"),
    ("＋８１ ３ １２３４ ５６７８", "JP"),
]


def main():
    vectors = []
    seen = set()

    def add(text, region, kind):
        if (text, region) in seen:
            return
        seen.add((text, region))
        oracle_value = oracle(text, region)
        expected, reason = policy(text, region, oracle_value)
        vector = {"input": text, "region": region, "kind": kind, "oracle": oracle_value,
                  "expected": expected if expected is not None else oracle_value}
        if expected is not None and expected != oracle_value:
            vector["reason"] = reason
        vectors.append(vector)

    for region in REGIONS:
        numbers = sample_numbers(region)
        for number_type, number in numbers:
            kinds = formats(number, region)
            # Every number in E.164 and nationally; three more spellings picked at random.
            chosen = kinds[:3] + rng.sample(kinds[3:], 3)
            type_name = T.to_string(number_type).lower()
            for text, parse_region, kind in chosen:
                add(text, parse_region, "%s:%s:%s" % (region, type_name, kind))
        for text, parse_region, kind in invalid_inputs(region, numbers):
            add(text, parse_region, "%s:invalid:%s" % (region, kind))
        # One digit too few or too many: mostly invalid, but plans with several lengths (DE, IT,
        # AT-style open plans) make some of them valid again; the oracle decides.
        for number_type, number in numbers:
            e164 = pn.format_number(number, F.E164)
            type_name = T.to_string(number_type).lower()
            add(e164[:-1], region, "%s:%s:one-digit-short" % (region, type_name))
            add(e164 + str(rng.randint(0, 9)), region, "%s:%s:one-digit-long" % (region, type_name))
    for text, region, kind in GENERIC_INVALID:
        add(text, region, "generic:" + kind)
    for text, region in HANDWRITTEN:
        add(text, region, "handwritten")

    document = {
        "generator": "scripts/gen-phone-vectors.py",
        "oracle": "phonenumbers %s (offline test oracle only)" % pn.__version__,
        "regions": REGIONS,
        "count": len(vectors),
        "vectors": vectors,
    }
    # One vector per line: regenerating gives a diff a reviewer can read.
    header = {k: v for k, v in document.items() if k != "vectors"}
    text = json.dumps(header, ensure_ascii=False, indent=1)[:-2]
    lines = [json.dumps(vector, ensure_ascii=False) for vector in vectors]
    sys.stdout.write(text + ',\n "vectors": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n")


if __name__ == "__main__":
    main()
