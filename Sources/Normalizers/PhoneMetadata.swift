/// Our own numbering-plan metadata: just enough to turn what people type into E.164 and to
/// reject what cannot be a number. Validation is by national significant number (NSN) length per
/// leading digits, not by allocated ranges; so an unallocated but well-formed number (say
/// `+1 555 555 0123`) is accepted. Sources: the ITU-T E.164 assignments and each regulator's
/// published numbering plan; cross-checked offline against Python `phonenumbers` through the
/// committed vectors in `Tests/NormalizersTests/Vectors/phone-vectors.json`.
struct PhonePlan: Sendable {
    /// ISO 3166 alpha-2 regions that dial with this plan (NANP: US and CA).
    let regions: [String]
    /// Country calling code digits ("1", "44").
    let countryCode: String
    /// National (trunk) prefix dialled before the NSN inside the country; nil where none exists
    /// (Spain, Italy: there a leading 0 belongs to the number and is kept in E.164).
    let trunkPrefix: String?
    /// Prefixes that start an international call from this region. Simplified: one per region,
    /// except Brazil, where `00` must be followed by a carrier selection code.
    let internationalPrefixes: [String]
    /// Carrier selection codes that may follow the trunk prefix in national dialling (Brazil).
    let carrierCodes: [String]
    /// Accepted NSN shapes; the most specific matching pattern decides (see ``isValid(nsn:)``).
    let ranges: [NumberRange]
    /// Shapes that are never valid even when a range matches (NANP N11 area codes, …).
    let excluded: [NumberRange]

    /// Whether `nsn` (digits only) is a plausible national significant number: among the ranges
    /// whose pattern starts `nsn`, the most specific (longest pattern) decide the allowed lengths,
    /// so `700` (11 digits in Germany) overrides the general `N` (5-11); no exclusion may match.
    func isValid(nsn: String) -> Bool {
        guard !excluded.contains(where: { $0.matches(nsn) }) else { return false }
        let candidates = ranges.filter { NumberRange.matches(pattern: $0.pattern, nsn) }
        guard let specificity = candidates.map(\.pattern.utf8.count).max() else { return false }
        return candidates.contains { $0.pattern.utf8.count == specificity && $0.lengths.contains(nsn.utf8.count) }
    }

    /// A human summary of the lengths this plan allows, for error messages.
    var lengthSummary: String {
        let all = Set(ranges.flatMap(\.lengths)).sorted()
        guard let low = all.first, let high = all.last else { return "none" }
        return low == high ? "\(low)" : "\(low)-\(high)"
    }
}

/// NSNs that start with `pattern` and have one of `lengths` digits. Pattern characters: a digit
/// matches itself, `N` matches 2-9, `D` matches 1-9, `X` matches any digit.
struct NumberRange: Sendable {
    let pattern: String
    let lengths: Set<Int>

    init(_ pattern: String, _ lengths: Set<Int>) {
        self.pattern = pattern
        self.lengths = lengths
    }

    init(_ pattern: String, _ lengths: ClosedRange<Int>) {
        self.init(pattern, Set(lengths))
    }

    func matches(_ nsn: String) -> Bool {
        lengths.contains(nsn.utf8.count) && Self.matches(pattern: pattern, nsn)
    }

    static func matches(pattern: String, _ digits: String) -> Bool {
        var digitIterator = digits.utf8.makeIterator()
        for symbol in pattern.utf8 {
            guard let digit = digitIterator.next() else { return false }
            switch symbol {
            case UInt8(ascii: "X"): continue
            case UInt8(ascii: "N"): if digit < UInt8(ascii: "2") { return false }
            case UInt8(ascii: "D"): if digit < UInt8(ascii: "1") { return false }
            default: if digit != symbol { return false }
            }
        }
        return true
    }
}

enum PhonePlans {
    /// The supported plans. Adding a country is adding an entry (and vectors for it).
    static let all: [PhonePlan] = [
        // North American Numbering Plan: NPA-NXX-XXXX; trunk "1"; international "011".
        PhonePlan(regions: ["US", "CA"], countryCode: "1", trunkPrefix: "1", internationalPrefixes: ["011"],
                  carrierCodes: [],
                  ranges: [NumberRange("NXXNXXXXXX", [10])],
                  // N11 service codes and N9X (reserved for expansion) are never area codes;
                  // 555 is used only for fiction and directory services.
                  excluded: [NumberRange("N11", 1...17), NumberRange("N9", 1...17), NumberRange("555", 1...17)]),
        // United Kingdom (Ofcom): 01/02 geographic, 03 non-geographic, 07 mobile, 08/09 special.
        PhonePlan(regions: ["GB"], countryCode: "44", trunkPrefix: "0", internationalPrefixes: ["00"], carrierCodes: [],
                  ranges: [NumberRange("1", [9, 10]), NumberRange("2", [10]), NumberRange("3", [10]),
                           NumberRange("5", [10]), NumberRange("7", [10]), NumberRange("800", [7, 9, 10]),
                           NumberRange("8", [9, 10]), NumberRange("9", [10])],
                  excluded: []),
        // Germany (BNetzA): open plan, area code + subscriber number, 5-15 digits; mobile 15x/16x/17x.
        PhonePlan(regions: ["DE"], countryCode: "49", trunkPrefix: "0", internationalPrefixes: ["00"], carrierCodes: [],
                  ranges: [NumberRange("15", [11]), NumberRange("16", 5...14), NumberRange("160", 10...11),
                           NumberRange("162", 10...11), NumberRange("163", 10...11), NumberRange("17", 10...11),
                           NumberRange("18", [11]), NumberRange("180", 8...14), NumberRange("181", 8...14),
                           NumberRange("13", 7...10), NumberRange("137", 9...10), NumberRange("138", [7]),
                           NumberRange("32", 11...13), NumberRange("700", [11]), NumberRange("800", 10...15),
                           NumberRange("900", [10]), NumberRange("9009", [11]),
                           // Berlin, Hamburg, Frankfurt, Munich: direct-dial extensions make numbers up to 15 digits.
                           NumberRange("30", 5...15), NumberRange("40", 5...15), NumberRange("69", 5...15),
                           NumberRange("89", 5...15), NumberRange("N", 5...11)],
                  excluded: []),
        // France (ARCEP): ten digits nationally, 0 + nine.
        PhonePlan(regions: ["FR"], countryCode: "33", trunkPrefix: "0", internationalPrefixes: ["00"], carrierCodes: [],
                  ranges: [NumberRange("1", [9]), NumberRange("N", [9])], excluded: []),
        // Spain (CNMC): closed plan of nine digits, no trunk prefix.
        PhonePlan(regions: ["ES"], countryCode: "34", trunkPrefix: nil, internationalPrefixes: ["00"], carrierCodes: [],
                  ranges: [NumberRange("5", [9]), NumberRange("6", [9]), NumberRange("7", [9]),
                           NumberRange("8", [9]), NumberRange("9", [9]), NumberRange("400", [9])],
                  excluded: []),
        // Italy (AGCOM): no trunk prefix; landlines keep their leading 0 in E.164, mobiles start with 3.
        PhonePlan(regions: ["IT"], countryCode: "39", trunkPrefix: nil, internationalPrefixes: ["00"], carrierCodes: [],
                  ranges: [NumberRange("0", 6...11), NumberRange("3", 9...10), NumberRange("31", [10]),
                           NumberRange("8", 6...10), NumberRange("800", [9]), NumberRange("803", [6]),
                           NumberRange("840", [9]), NumberRange("848", [9]), NumberRange("841", [6]), NumberRange("847", [6]),
                           NumberRange("899", [9]), NumberRange("1", [9]), NumberRange("178", [10]),
                           NumberRange("55", [10]), NumberRange("43", [10])],
                  excluded: []),
        // Netherlands (ACM): nine digits after the trunk 0; 0800/090x 7-10; 14xxx municipal numbers.
        PhonePlan(regions: ["NL"], countryCode: "31", trunkPrefix: "0", internationalPrefixes: ["00"], carrierCodes: [],
                  ranges: [NumberRange("14", 5...6), NumberRange("800", 7...10), NumberRange("90", 7...10),
                           NumberRange("970", [11]), NumberRange("8", [9]), NumberRange("9", [9]),
                           NumberRange("1", [9]), NumberRange("N", [9])],
                  excluded: []),
        // India (TRAI): ten digits; mobiles start 6-9; 1800 toll-free up to 13 digits.
        PhonePlan(regions: ["IN"], countryCode: "91", trunkPrefix: "0", internationalPrefixes: ["00"], carrierCodes: [],
                  ranges: [NumberRange("N", [10]), NumberRange("1", [10]), NumberRange("1800", 8...13),
                           NumberRange("1803", [13]), NumberRange("1860", [11]), NumberRange("1861", [13]),
                           NumberRange("1862", [13])],
                  excluded: []),
        // Japan (MIC): trunk 0; 9-digit landlines, 10-digit mobile/IP (050, 070, 080, 090), 0120 toll-free.
        PhonePlan(regions: ["JP"], countryCode: "81", trunkPrefix: "0", internationalPrefixes: ["010"], carrierCodes: [],
                  // X0 prefixes are 10-digit mobile/IP/pager ranges; only 060 personal numbers have 9.
                  ranges: [NumberRange("120", [9]), NumberRange("800", [10]), NumberRange("X0", [10]),
                           NumberRange("60", [9]), NumberRange("1", [9]), NumberRange("N", [9])],
                  excluded: []),
        // Australia (ACMA): trunk 0 + nine digits; 13/1300/1800 numbers; international "0011".
        PhonePlan(regions: ["AU"], countryCode: "61", trunkPrefix: "0", internationalPrefixes: ["0011"], carrierCodes: [],
                  ranges: [NumberRange("N", [9]), NumberRange("13", [6]), NumberRange("1300", [10, 12]),
                           NumberRange("1345", [8]), NumberRange("14", [9]), NumberRange("163", 5...9),
                           NumberRange("180", [7]), NumberRange("1800", [10]), NumberRange("190", [10])],
                  excluded: []),
        // Brazil (Anatel): two-digit area code + 8-digit landline or 9-digit mobile; calls dialled
        // with a carrier selection code after 0 (national) or 00 (international).
        PhonePlan(regions: ["BR"], countryCode: "55", trunkPrefix: "0",
                  internationalPrefixes: ["0012", "0014", "0015", "0021", "0023", "0025", "0031", "0041", "0043",
                                          "0055", "0065", "0099"],
                  carrierCodes: ["12", "14", "15", "21", "23", "25", "31", "41", "43", "55", "65", "99"],
                  ranges: [NumberRange("800", 9...10), NumberRange("300", [8, 10]), NumberRange("303", [10]),
                           NumberRange("400", [8]), NumberRange("4020", [8]), NumberRange("4370", [8]), NumberRange("4864", [8]),
                           NumberRange("500", 9...10), NumberRange("900", 9...10),
                           NumberRange("DD9", [11]), NumberRange("DD2", [10]), NumberRange("DD3", [10]),
                           NumberRange("DD4", [10]), NumberRange("DD5", [10]), NumberRange("DD7", [10]),
                           NumberRange("DD8", [10])],
                  excluded: []),
        // Mexico (IFT): since 2019 a closed plan of ten digits, no trunk prefix.
        PhonePlan(regions: ["MX"], countryCode: "52", trunkPrefix: nil, internationalPrefixes: ["00"], carrierCodes: [],
                  ranges: [NumberRange("1", [10]), NumberRange("N", [10])], excluded: []),
    ]

    static let byRegion: [String: PhonePlan] = {
        var map: [String: PhonePlan] = [:]
        for plan in all { for region in plan.regions { map[region] = plan } }
        return map
    }()

    static let byCountryCode: [String: PhonePlan] = {
        var map: [String: PhonePlan] = [:]
        for plan in all { map[plan.countryCode] = plan }
        return map
    }()
}
