import CRMModel

/// Small text helpers shared by the normalizers.
enum Text {
    /// Whitespace for our purposes: Unicode White_Space (spaces, tabs, newlines, NBSP, the
    /// U+2000 family), plus the zero-width characters that pasted CRM data is full of.
    static func isSpaceLike(_ character: Character) -> Bool {
        if character.isWhitespace { return true }
        return character.unicodeScalars.allSatisfy { invisible.contains($0.value) }
    }

    /// Zero-width space, word joiner, BOM: invisible, never meaningful in identifiers or names.
    private static let invisible: Set<UInt32> = [0x200B, 0x2060, 0xFEFF]

    /// Trims and collapses every run of space-like characters to one ASCII space.
    static func collapseWhitespace(_ raw: String) -> String {
        var result = ""
        result.reserveCapacity(raw.utf8.count)
        var pendingSpace = false
        for character in raw {
            if isSpaceLike(character) {
                pendingSpace = !result.isEmpty
            } else {
                if pendingSpace { result.append(" ") }
                pendingSpace = false
                result.append(character)
            }
        }
        return result
    }

    /// Trims space-like characters at both ends only.
    static func trim(_ raw: String) -> String {
        guard let first = raw.firstIndex(where: { !isSpaceLike($0) }),
              let last = raw.lastIndex(where: { !isSpaceLike($0) })
        else { return "" }
        return String(raw[first...last])
    }

    /// A short, safe rendering of a user value for error messages: quoted, control characters
    /// escaped, cut at 64 characters so a huge field never floods a DLQ header.
    static func quote(_ value: String) -> String {
        var out = ""
        var count = 0
        for scalar in value.unicodeScalars {
            if count == 64 { out += "…"; break }
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else if scalar == "\"" || scalar == "\\" {
                out += "\\" + String(scalar)
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return "\"" + out + "\""
    }
}

extension EventError {
    /// An `.invalidValue` failure of the normalize stage.
    static func invalid(_ field: String, _ message: String) -> EventError {
        EventError(.invalidValue, stage: .normalize, field: field, message)
    }
}
