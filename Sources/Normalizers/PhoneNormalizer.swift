import CRMModel

/// A phone number in E.164, plus the key it is matched by.
public struct NormalizedPhone: Sendable, Hashable {
    /// "+14155550101": `+`, country calling code, national significant number; no extension.
    public let e164: String
    /// nil if blocked (all zeros, all same digit, blocklist); otherwise the E.164 string.
    public let matchKey: String?
    /// Country calling code digits ("1", "44"); empty when ``isCheckedAgainstPlan`` is false
    /// (we do not know where the code ends for countries outside the table).
    public let countryCallingCode: String
    /// National significant number digits (no trunk prefix); all digits after `+` when
    /// ``isCheckedAgainstPlan`` is false.
    public let nationalNumber: String
    /// Extension digits split off the input ("x123", "ext. 123", "#123", ";ext=123"), if any.
    /// Never part of `e164` or `matchKey`: colleagues behind one switchboard share a number.
    public let `extension`: String?
    /// true when the number was checked against our metadata for its country; false for a
    /// `+`-prefixed number of a country we have no plan for, accepted on E.164 length alone.
    public let isCheckedAgainstPlan: Bool

    public init(e164: String, matchKey: String?, countryCallingCode: String, nationalNumber: String,
                extension: String? = nil, isCheckedAgainstPlan: Bool = true) {
        self.e164 = e164
        self.matchKey = matchKey
        self.countryCallingCode = countryCallingCode
        self.nationalNumber = nationalNumber
        self.extension = `extension`
        self.isCheckedAgainstPlan = isCheckedAgainstPlan
    }
}

/// Phone numbers → E.164 with a default region for numbers written nationally (docs/contract.md#normalize).
///
/// Our own implementation over a small metadata table (``supportedRegions``: NANP (US, CA), GB,
/// DE, FR, ES, IT, NL, IN, JP, AU, BR, MX). Policy:
/// - accepted: digits (any Unicode decimal digits, e.g. full-width `０３`), spaces, `-` and other
///   dashes, `.`, `/`, parentheses, one leading `+`, a `tel:` prefix, and `(0)` after the country
///   code (`+44 (0)20 7946 0958`);
/// - international forms: `+CC…`, or the default region's international prefix (`011` in NANP,
///   `00` in most of Europe, `010` in Japan, `0011` in Australia, `00`+carrier code in Brazil);
/// - national forms: with or without the trunk prefix (`0` in GB/DE/FR/NL/IN/JP/AU/BR, `1` in
///   NANP; none in ES, IT and MX: an Italian landline keeps its leading 0), Brazil also with a
///   carrier code after the trunk 0 (`0 21 11 …`);
/// - extensions (`x123`, `ext. 123`, `extension 123`, `#123`, `;ext=123`) are split off into
///   ``NormalizedPhone/extension`` and dropped from the E.164 form;
/// - letters (vanity numbers like `1-800-FLOWERS`), a `+` inside the number, or a national
///   significant number whose length does not fit the country's plan are `.invalidValue`;
/// - a `+` number of a country outside the table is accepted when it has 7-15 digits (E.164 limits),
///   flagged by ``NormalizedPhone/isCheckedAgainstPlan`` = false: rejecting it would dead-letter a
///   customer's event for a gap in our table.
public struct PhoneNormalizer: Sendable {
    /// ISO 3166 alpha-2 codes with a numbering plan in the table.
    public static let supportedRegions: [String] = PhonePlans.all.flatMap(\.regions).sorted()

    /// The region numbers without a country code are read in.
    public let defaultRegion: String
    private let plan: PhonePlan

    /// defaultRegion: ISO 3166 alpha-2 ("US", "GB", ...); unknown region → .invalidValue naming the region.
    public init(defaultRegion: String) throws(EventError) {
        let region = Text.trim(defaultRegion).uppercased()
        guard let plan = PhonePlans.byRegion[region] else {
            let hint = region == "UK" ? " (the ISO 3166 code of the United Kingdom is GB)" : ""
            throw EventError(.invalidValue, stage: .normalize, field: "phone.default_region",
                             "unsupported default phone region \(Text.quote(defaultRegion))\(hint); supported: "
                                + Self.supportedRegions.joined(separator: ", "))
        }
        self.defaultRegion = region
        self.plan = plan
    }

    /// Parses `raw` into E.164; `.invalidValue` naming `field` when it cannot be a number.
    /// A blocked number (all one digit, listed in `blocklist`) is returned with a nil match key.
    public func normalize(_ raw: String, field: String, blocklist: IdentifierBlocklist) throws(EventError) -> NormalizedPhone {
        try normalize(raw, field: field, blocklist: blocklist, regionHint: nil)
    }

    /// Like ``normalize(_:field:blocklist:)``, reading national numbers in `regionHint` (an ISO
    /// 3166 alpha-2 code, typically the record's own `country`) when it is a supported region,
    /// and in ``defaultRegion`` otherwise. International forms are unaffected by either.
    public func normalize(_ raw: String, field: String, blocklist: IdentifierBlocklist,
                          regionHint: String?) throws(EventError) -> NormalizedPhone {
        var plan = self.plan
        var region = defaultRegion
        if let hint = regionHint.map({ Text.trim($0).uppercased() }), let hinted = PhonePlans.byRegion[hint] {
            plan = hinted
            region = hint
        }
        let parsed = try parse(raw, field: field, plan: plan, region: region)
        let blocked = blocklist.isBlocked(value: raw)
            || blocklist.isBlocked(phoneE164: parsed.e164, nationalNumber: parsed.nationalNumber)
        return NormalizedPhone(e164: parsed.e164, matchKey: blocked ? nil : parsed.e164,
                               countryCallingCode: parsed.countryCallingCode, nationalNumber: parsed.nationalNumber,
                               extension: parsed.extension, isCheckedAgainstPlan: parsed.isCheckedAgainstPlan)
    }

    private func parse(_ raw: String, field: String, plan: PhonePlan, region: String) throws(EventError) -> NormalizedPhone {
        var text = Text.trim(raw)
        guard !text.isEmpty else { throw .invalid(field, "empty phone number") }
        guard text.count <= 64 else { throw .invalid(field, "phone number longer than 64 characters") }
        if text.lowercased().hasPrefix("tel:") { text = String(text.dropFirst(4)) }
        let (main, ext) = Self.splitExtension(text)

        // Keep digits; note a leading plus; reject anything that is not a separator.
        var digits = ""
        var international = false
        for character in main {
            if let digit = Self.decimalDigit(character) {
                digits.append(digit)
            } else if character == "+" || character == "＋" {
                guard digits.isEmpty, !international else {
                    throw .invalid(field, "'+' may only start a phone number: \(Text.quote(raw))")
                }
                international = true
            } else if Self.isSeparator(character) {
                continue
            } else if character.isLetter {
                throw .invalid(field, "phone number contains letters (vanity numbers are not converted): \(Text.quote(raw))")
            } else {
                throw .invalid(field, "phone number contains \(Text.quote(String(character))): \(Text.quote(raw))")
            }
        }
        guard digits.count >= 3 else { throw .invalid(field, "too few digits for a phone number: \(Text.quote(raw))") }
        guard digits.count <= 17 else { throw .invalid(field, "too many digits for a phone number: \(Text.quote(raw))") }

        if international {
            return try fromInternational(digits, extension: ext, raw: raw, field: field)
        }
        // Dialled with this region's international prefix?
        for prefix in plan.internationalPrefixes where digits.hasPrefix(prefix) {
            if let number = try? fromInternational(String(digits.dropFirst(prefix.count)), extension: ext, raw: raw, field: field) {
                return number
            }
        }
        if let nsn = nationalSignificantNumber(digits, plan: plan) {
            return number(plan: plan, nsn: nsn, extension: ext)
        }
        // Written with the country code but without '+' ("44 20 7946 0958" in GB).
        if digits.hasPrefix(plan.countryCode),
           let nsn = nationalSignificantNumber(String(digits.dropFirst(plan.countryCode.count)), plan: plan) {
            return number(plan: plan, nsn: nsn, extension: ext)
        }
        throw .invalid(field, "not a valid \(region) phone number (national numbers there have "
                       + "\(plan.lengthSummary) digits after the trunk prefix): \(Text.quote(raw))")
    }

    private func fromInternational(_ digits: String, extension ext: String?, raw: String, field: String) throws(EventError) -> NormalizedPhone {
        guard let first = digits.first, first != "0" else {
            throw .invalid(field, "country calling codes never start with 0: \(Text.quote(raw))")
        }
        for length in 1...3 where digits.count > length {
            let code = String(digits.prefix(length))
            guard let plan = PhonePlans.byCountryCode[code] else { continue }
            let rest = String(digits.dropFirst(length))
            guard let nsn = nationalSignificantNumber(rest, plan: plan, afterCountryCode: true) else {
                throw .invalid(field, "not a valid +\(code) phone number (\(plan.regions.joined(separator: "/")) numbers have "
                               + "\(plan.lengthSummary) national digits): \(Text.quote(raw))")
            }
            return number(plan: plan, nsn: nsn, extension: ext)
        }
        // A country outside our table: E.164 allows 15 digits at most; 7 is the shortest in use.
        guard (7...15).contains(digits.count) else {
            throw .invalid(field, "an international phone number has 7-15 digits, this has \(digits.count): \(Text.quote(raw))")
        }
        return NormalizedPhone(e164: "+" + digits, matchKey: nil, countryCallingCode: "", nationalNumber: digits,
                               extension: ext, isCheckedAgainstPlan: false)
    }

    /// The NSN inside `digits` as dialled in `plan`'s country, or nil. Tries the digits as they
    /// are, then without the trunk prefix (and, in Brazil, a carrier code after it). After a country
    /// code the digits as they are win (`+39 06…` keeps the 0); nationally the stripped form wins.
    private func nationalSignificantNumber(_ digits: String, plan: PhonePlan, afterCountryCode: Bool = false) -> String? {
        var candidates: [String] = []
        if let trunk = plan.trunkPrefix, digits.hasPrefix(trunk) {
            let stripped = String(digits.dropFirst(trunk.count))
            for carrier in plan.carrierCodes where stripped.hasPrefix(carrier) {
                let withoutCarrier = String(stripped.dropFirst(carrier.count))
                if withoutCarrier.count >= 10 { candidates.append(withoutCarrier) }
            }
            candidates.insert(stripped, at: 0)
        }
        if afterCountryCode { candidates.insert(digits, at: 0) } else { candidates.append(digits) }
        return candidates.first(where: plan.isValid(nsn:))
    }

    private func number(plan: PhonePlan, nsn: String, extension ext: String?) -> NormalizedPhone {
        NormalizedPhone(e164: "+" + plan.countryCode + nsn, matchKey: nil, countryCallingCode: plan.countryCode,
                        nationalNumber: nsn, extension: ext, isCheckedAgainstPlan: true)
    }

    /// Splits a trailing extension off: `(main, digits)`.
    static func splitExtension(_ text: String) -> (String, String?) {
        // Every marker has an `x` or a `#`; in ASCII text only `x`, `X` and `#` lower-case to those.
        if text.utf8.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "x") && $0 != UInt8(ascii: "X") && $0 != UInt8(ascii: "#") }) {
            return (text, nil)
        }
        return splitExtensionBySearch(text)
    }

    /// ``splitExtension(_:)`` by searching for each marker.
    static func splitExtensionBySearch(_ text: String) -> (String, String?) {
        let lower = text.lowercased()
        var best: (String.Index, String)? = nil
        for marker in [";ext=", "extension", "ext.", "ext", "x", "#"] {
            guard let range = lower.range(of: marker, options: .backwards) else { continue }
            let tail = lower[range.upperBound...]
            let body = tail.drop(while: { $0 == " " || $0 == "." || $0 == ":" || $0 == "\t" })
            var digits = ""
            var rest = Substring(body)
            while let c = rest.first, let d = decimalDigit(c) { digits.append(d); rest = rest.dropFirst() }
            guard !digits.isEmpty, digits.count <= 10,
                  rest.allSatisfy({ $0 == " " || $0 == "#" })
            else { continue }
            if let current = best, current.0 <= range.lowerBound { continue }
            best = (range.lowerBound, digits)
        }
        guard let (start, digits) = best else { return (text, nil) }
        // Same character boundaries: lowercasing ASCII markers does not move indices of ASCII text,
        // but for safety re-find the split point by offset.
        let offset = lower.distance(from: lower.startIndex, to: start)
        let main = String(text.prefix(offset))
        return (main, digits)
    }

    static func decimalDigit(_ character: Character) -> Character? {
        if let ascii = character.asciiValue {
            return ascii >= UInt8(ascii: "0") && ascii <= UInt8(ascii: "9") ? character : nil
        }
        return decimalDigitByProperties(character)
    }

    /// ``decimalDigit(_:)`` from the Unicode properties (full-width and other scripts' digits).
    static func decimalDigitByProperties(_ character: Character) -> Character? {
        guard character.unicodeScalars.count == 1, let scalar = character.unicodeScalars.first,
              scalar.properties.generalCategory == .decimalNumber,
              let value = scalar.properties.numericValue, value >= 0, value <= 9
        else { return nil }
        return Character(String(Int(value)))
    }

    static func isSeparator(_ character: Character) -> Bool {
        if let ascii = character.asciiValue {
            switch ascii {
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "("), UInt8(ascii: ")"): return true
            default: return Text.isASCIISpace(ascii)
            }
        }
        return isSeparatorByCharacter(character)
    }

    /// ``isSeparator(_:)`` for any character.
    static func isSeparatorByCharacter(_ character: Character) -> Bool {
        if Text.isSpaceLike(character) { return true }
        switch character {
        case "-", ".", "/", "(", ")", "‐", "‑", "‒", "–", "—", "―", "−", "－", "（", "）", "．", "／", "ー", "・":
            return true
        default:
            return false
        }
    }
}
