import CRMModel
import ConfigFiles
import Foundation

/// The per-field policies of docs/contract.md#ownership (`policy:` in `config/ownership.yml`).
public enum PolicyKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// The owners' latest value wins; other sources per ``FieldRule/others``.
    case owner
    /// Same as `owner` with `others: fill-if-empty`.
    case fillIfEmpty = "fill-if-empty"
    /// The earliest value by `occurred_at` wins, even when it arrives last.
    case setOnce = "set-once"
    /// The latest `occurred_at` wins; ties by source priority, then event id.
    case lastWriteWins = "last-write-wins"
    /// The largest value wins.
    case max
    /// Product counters: increments from `tracked` events, totals from other owner events.
    case counter
    /// An ordered ladder with per-source caps; never moves backwards.
    case monotonic
    /// Opt-outs stick until an explicit, later re-consent from an owner.
    case sticky
    /// Owner wins; a conflicting non-owner value becomes a review request.
    case review
}

/// What happens to values from sources that do not own a field.
public enum OthersRule: String, Sendable, Hashable, CaseIterable, Codable {
    /// The earliest non-owner value shows while no owner has a value.
    case fillIfEmpty = "fill-if-empty"
    /// Non-owner values are rejected.
    case ignored
}

/// The ladder of a `monotonic` field.
public struct StageLadder: Sendable, Hashable {
    /// Stages lowest first.
    public var order: [String]
    /// The highest stage each source may set; a source without a cap may not set the field.
    public var caps: [Source: String]
    /// Stages outside the order (`disqualified`) and the sources that may set them.
    public var offLadder: [String: Set<Source>]

    public init(order: [String], caps: [Source: String], offLadder: [String: Set<Source>] = [:]) {
        self.order = order
        self.caps = caps
        self.offLadder = offLadder
    }

    /// Position on the ladder (0 = lowest); nil for off-ladder or unknown stages.
    public func rank(of stage: String) -> Int? { order.firstIndex(of: stage) }

    /// Whether `source` may set `stage` (within its cap, or allowed for an off-ladder stage).
    public func allows(_ source: Source, toSet stage: String) -> Bool {
        if let rank = rank(of: stage) {
            guard let cap = caps[source], let capRank = self.rank(of: cap) else { return false }
            return rank <= capRank
        }
        return offLadder[stage]?.contains(source) ?? false
    }
}

/// The resolved rule of one field (or of the `usage.*` family, or the default).
public struct FieldRule: Sendable, Hashable {
    public var policy: PolicyKind
    /// Systems of record (`owner`, `fill-if-empty`, `review`, `counter`) or who may lift (`sticky`).
    public var owners: Set<Source>
    /// Non-owner handling for `owner`; always `fill-if-empty` for `fill-if-empty`/`review`.
    public var others: OthersRule
    /// For `monotonic`.
    public var ladder: StageLadder?
    /// For `sticky`: event actions that count as an explicit re-consent.
    public var explicitActions: Set<Action>

    public init(policy: PolicyKind, owners: Set<Source> = [], others: OthersRule = .ignored,
                ladder: StageLadder? = nil, explicitActions: Set<Action> = []) {
        self.policy = policy
        self.owners = owners
        self.others = others
        self.ladder = ladder
        self.explicitActions = explicitActions
    }

    /// The rule name written to provenance and audit events for a value this rule decided.
    public var name: String { policy.rawValue }
}

/// The ownership map: one ``FieldRule`` per canonical field, a source priority and a default.
///
/// Load it once at start-up with ``load(path:)`` (or use ``default``); it is immutable and
/// `Sendable`, so one instance serves every partition.
public struct OwnershipPolicy: Sendable, Hashable {
    /// Tie-break order, highest priority first; every ``Source`` appears exactly once.
    public var sourcePriority: [Source]
    /// Rules by exact field name.
    public var fields: [String: FieldRule]
    /// Rules by field-name prefix (`usage.` for `usage.*`).
    public var wildcards: [String: FieldRule]
    /// The rule of fields listed nowhere.
    public var defaultRule: FieldRule

    public init(sourcePriority: [Source], fields: [String: FieldRule], wildcards: [String: FieldRule] = [:],
                defaultRule: FieldRule = FieldRule(policy: .lastWriteWins)) {
        var priority = sourcePriority
        for source in Source.allCases where !priority.contains(source) { priority.append(source) }
        self.sourcePriority = priority
        self.fields = fields
        self.wildcards = wildcards
        self.defaultRule = defaultRule
    }

    /// The rule deciding `field`: its own entry, else the longest matching wildcard, else the default.
    public func rule(for field: String) -> FieldRule {
        if let rule = fields[field] { return rule }
        let match = wildcards.filter { field.hasPrefix($0.key) }.max { $0.key.count < $1.key.count }
        return match?.value ?? defaultRule
    }

    /// The shipped default map (docs/contract.md#shipped-ownership-map), parsed from the text embedded in this module, which a
    /// test keeps byte-identical to `config/ownership.yml`. Embedded rather than read from the repo
    /// path so the binary works from any working directory and needs no resource bundle.
    public static let `default`: OwnershipPolicy = {
        do {
            return try parse(text: shippedText, file: "config/ownership.yml")
        } catch {
            // Programming error, not input: the shipped text is checked by the test suite.
            fatalError("the embedded default config/ownership.yml is invalid: \(error)")
        }
    }()

    /// Reads and validates a policy file.
    /// - Throws: ``ConfigError`` naming the file (and line and key) of the first problem.
    public static func load(path: String) throws(ConfigError) -> OwnershipPolicy {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(origin: path, "cannot read the ownership policy file: \(error.localizedDescription)")
        }
        return try parse(text: text, file: path)
    }

    /// Parses and validates the text of an ownership policy file (format: top of `config/ownership.yml`).
    /// - Parameter file: the name used in error messages.
    /// - Throws: ``ConfigError`` as one line `file:line:col: key: message`.
    public static func parse(text: String, file: String) throws(ConfigError) -> OwnershipPolicy {
        let root = try YAMLReader(text: text, file: file)
        let top = try root.mapping(knownKeys: ["version", "source_priority", "default", "fields"])
        guard let version = top["version"] else {
            throw ConfigError(origin: file, line: root.line, key: "version", "missing (expected version: 1)")
        }
        guard try version.int(in: 1...Int.max) == 1 else { throw version.error("unsupported version (expected 1)") }

        var priority: [Source] = []
        if let reader = top["source_priority"] {
            for name in try splitList(try reader.string(), separators: [">", ","]) {
                let source = try parseSource(name, reader)
                guard !priority.contains(source) else { throw reader.error("source \(name) listed twice") }
                priority.append(source)
            }
        } else {
            priority = Source.allCases
        }

        var defaultRule = FieldRule(policy: .lastWriteWins)
        if let reader = top["default"] {
            defaultRule = try parseRule(reader, field: nil)
            guard defaultRule.policy != .sticky, defaultRule.policy != .monotonic else {
                throw reader.error("policy \(defaultRule.policy.rawValue) needs a specific field; it cannot be the default")
            }
        }

        guard let fieldsReader = top["fields"] else {
            throw ConfigError(origin: file, line: root.line, key: "fields", "missing (the map of field policies)")
        }
        var fields: [String: FieldRule] = [:]
        var wildcards: [String: FieldRule] = [:]
        for (name, reader) in try fieldsReader.entries() {
            if name.hasSuffix("*") {
                let prefix = String(name.dropLast())
                // `usage.*` is the only open-ended family in the catalogue.
                guard prefix == FieldCatalogue.usagePrefix else {
                    throw reader.error("unknown field wildcard (only \(FieldCatalogue.usagePrefix)* is allowed)")
                }
                wildcards[prefix] = try parseRule(reader, field: (name, .number))
            } else {
                guard let kind = FieldCatalogue.kind(of: name) else {
                    throw reader.error("unknown field (not in the canonical field catalogue, docs/contract.md#fields)")
                }
                fields[name] = try parseRule(reader, field: (name, kind))
            }
        }
        return OwnershipPolicy(sourcePriority: priority, fields: fields, wildcards: wildcards, defaultRule: defaultRule)
    }

    // MARK: Parsing helpers

    /// Which option keys each policy takes; anything else is an impossible combination.
    private static let optionsByPolicy: [PolicyKind: Set<String>] = [
        .owner: ["owner", "others"],
        .fillIfEmpty: ["owner"],
        .review: ["owner"],
        .counter: ["owner"],
        .sticky: ["owner", "explicit"],
        .monotonic: ["order", "caps", "off_ladder"],
        .setOnce: [],
        .lastWriteWins: [],
        .max: [],
    ]
    private static let allOptionKeys = ["policy", "owner", "others", "order", "caps", "off_ladder", "explicit"]

    private static func parseRule(_ reader: YAMLReader, field: (name: String, kind: FieldKind)?) throws(ConfigError) -> FieldRule {
        let keys = try reader.mapping(knownKeys: allOptionKeys)
        guard let policyReader = keys["policy"] else {
            throw reader.error("missing policy (one of: \(PolicyKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let policyName = try policyReader.string()
        guard let policy = PolicyKind(rawValue: policyName) else {
            throw policyReader.error("unknown policy \"\(policyName)\" (expected one of: \(PolicyKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let allowed = optionsByPolicy[policy] ?? []
        // Report in file order so the error names the first offending line.
        for (key, option) in keys.sorted(by: { ($0.value.line ?? 0, $0.key) < ($1.value.line ?? 0, $1.key) })
        where key != "policy" && !allowed.contains(key) {
            let why = key == "others"
                ? "`others:` applies only to policy owner (\(policy.rawValue) has no owner/others split)"
                : "`\(key):` does not apply to policy \(policy.rawValue)"
            throw option.error(why)
        }

        var rule = FieldRule(policy: policy)
        if allowed.contains("owner") {
            guard let ownerReader = keys["owner"] else {
                throw policyReader.error("policy \(policy.rawValue) needs `owner:` (the source(s) of record)")
            }
            let names = try splitList(try ownerReader.string(), separators: [","])
            guard !names.isEmpty else { throw ownerReader.error("must name at least one source") }
            for name in names { rule.owners.insert(try parseSource(name, ownerReader)) }
        }
        switch policy {
        case .owner:
            if let othersReader = keys["others"] {
                let text = try othersReader.string()
                guard let others = OthersRule(rawValue: text) else {
                    throw othersReader.error("unknown value \"\(text)\" (expected fill-if-empty or ignored)")
                }
                rule.others = others
            }
        case .fillIfEmpty, .review:
            rule.others = .fillIfEmpty
        case .monotonic:
            rule.ladder = try parseLadder(keys, policyReader)
        case .sticky:
            if let field, field.kind != .boolean, field.kind != .consent {
                throw policyReader.error("sticky needs a boolean or consent field; \(field.name) is \(field.kind.rawValue)")
            }
            rule.explicitActions = [.consentChanged]
            if let explicitReader = keys["explicit"] {
                rule.explicitActions = []
                for name in try splitList(try explicitReader.string(), separators: [","]) {
                    guard let action = Action(rawValue: name) else {
                        throw explicitReader.error("unknown event action \"\(name)\" (expected one of: \(Action.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    rule.explicitActions.insert(action)
                }
                guard !rule.explicitActions.isEmpty else { throw explicitReader.error("must name at least one action") }
            }
        case .counter:
            if let field, field.kind != .number, field.kind != .money {
                throw policyReader.error("counter needs a numeric field; \(field.name) is \(field.kind.rawValue)")
            }
        case .max:
            if let field, field.kind == .consent {
                throw policyReader.error("max has no order for consent records")
            }
        case .setOnce, .lastWriteWins:
            break
        }
        return rule
    }

    private static func parseLadder(_ keys: [String: YAMLReader], _ policyReader: YAMLReader) throws(ConfigError) -> StageLadder {
        guard let orderReader = keys["order"] else {
            throw policyReader.error("monotonic needs `order:` (stages lowest first, e.g. a < b < c)")
        }
        let order = try splitList(try orderReader.string(), separators: ["<", ","])
        guard !order.isEmpty else { throw orderReader.error("must list at least one stage") }
        guard Set(order).count == order.count else { throw orderReader.error("a stage is listed twice") }

        var offLadder: [String: Set<Source>] = [:]
        if let offReader = keys["off_ladder"] {
            for (stage, sourcesReader) in try offReader.entries() {
                guard !order.contains(stage) else {
                    throw sourcesReader.error("stage \(stage) is on the ladder; off_ladder names stages outside `order`")
                }
                var sources: Set<Source> = []
                for name in try splitList(try sourcesReader.string(), separators: [","]) {
                    sources.insert(try parseSource(name, sourcesReader))
                }
                guard !sources.isEmpty else { throw sourcesReader.error("must name at least one source") }
                offLadder[stage] = sources
            }
        }

        guard let capsReader = keys["caps"] else {
            throw policyReader.error("monotonic needs `caps:` (the highest stage each source may set)")
        }
        var caps: [Source: String] = [:]
        for (name, capReader) in try capsReader.entries() {
            let source = try parseSource(name, capReader)
            let stage = try capReader.string()
            guard order.contains(stage) else {
                throw capReader.error("unknown stage \"\(stage)\" (expected one of: \(order.joined(separator: ", ")))")
            }
            caps[source] = stage
        }
        return StageLadder(order: order, caps: caps, offLadder: offLadder)
    }

    private static func parseSource(_ name: String, _ reader: YAMLReader) throws(ConfigError) -> Source {
        guard let source = Source(rawValue: name) else {
            throw reader.error("unknown source \"\(name)\" (expected one of: \(Source.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return source
    }

    /// `a > b, c` → ["a", "b", "c"]; empty items are an error (a doubled separator is a typo).
    private static func splitList(_ text: String, separators: Set<Character>) throws(ConfigError) -> [String] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return [] }
        return trimmed.split(omittingEmptySubsequences: false, whereSeparator: { separators.contains($0) })
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }
}
