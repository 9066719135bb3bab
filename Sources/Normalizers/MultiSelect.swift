/// Multi-select picklists (HubSpot checkboxes, Salesforce multi-select): `;`-separated values.
public enum MultiSelect {
    /// "a;b; c" → ["a","b","c"] as a sorted, de-duplicated array (a set in value semantics); empty parts dropped.
    ///
    /// Each part is trimmed and its inner whitespace collapsed; case is kept (mapping values to
    /// canonical slugs is the picklist tables' job). Sorting makes the result independent of the
    /// order a source happened to list the values in.
    public static func parse(_ raw: String) -> [String] {
        var seen = Set<String>()
        for part in raw.split(separator: ";", omittingEmptySubsequences: true) {
            let value = Text.collapseWhitespace(String(part))
            if !value.isEmpty { seen.insert(value) }
        }
        return seen.sorted()
    }

    /// Joins values back into the `;` form, sorted and de-duplicated (the inverse of ``parse(_:)``).
    public static func format(_ values: some Sequence<String>) -> String {
        parse(values.joined(separator: ";")).joined(separator: ";")
    }
}
