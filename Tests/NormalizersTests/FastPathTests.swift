@testable import Normalizers
import PropertyBased
import Testing

/// The byte-level fast paths (ASCII, Latin-1 names) give exactly the bytes the general,
/// character-by-character paths give, on generated input mixing ASCII controls, every kind of
/// space, combining marks (also after a space, where they join its grapheme), invisible
/// characters and other scripts. Compared as UTF-8 bytes: `String ==` ignores NFC differences.
@Suite struct FastPathTests {
    static let alphabet: [Character] = Array(
        "aZz09 \t\n\r\u{0B}\u{0C}\u{1C}\u{1F}\u{0}\u{7F}-_.'`|+#xX;()/‐‑–—’‘´ʼéÉßİıÅ\u{301}\u{308}\u{A0}\u{85}\u{2003}\u{3000}"
            + "\u{200B}\u{FEFF}\u{2060}ｗＸ０二👍ẋẊŉǅ\u{600}")
    static let asciiAlphabet: [Character] = (0..<128).map { Character(Unicode.Scalar(UInt8($0))) }

    static func bytes(_ text: String?) -> [UInt8]? { text.map { Array($0.utf8) } }

    @Test func collapseWhitespaceMatchesTheCharacterPath() async {
        await propertyCheck(count: 2000, input: Gen.element(of: Self.alphabet).compactMap { $0 }.string(of: 0...24)) { raw in
            #expect(Self.bytes(Text.collapseWhitespace(raw)) == Self.bytes(Text.collapseWhitespaceByCharacter(raw)), "\(raw.debugDescription)")
        }
        await propertyCheck(count: 2000, input: Gen.element(of: Self.asciiAlphabet).compactMap { $0 }.string(of: 0...24)) { raw in
            #expect(Self.bytes(Text.collapseASCIIWhitespace(raw)) == Self.bytes(Text.collapseWhitespaceByCharacter(raw)), "\(raw.debugDescription)")
        }
        #expect(Text.collapseASCIIWhitespace("José") == nil)
        #expect(Text.collapseASCIIWhitespace(" a \r\n\t b  ") == "a b")
    }

    @Test func everyASCIIByteIsSpaceExactlyWhenItsCharacterIs() {
        for character in Self.asciiAlphabet + ["\r\n"] {
            guard let byte = character.asciiValue else { continue }
            #expect(Text.isASCIISpace(byte) == Text.isSpaceLike(character), "\(character.debugDescription)")
        }
    }

    @Test func trimMatchesTheCharacterPath() async {
        await propertyCheck(count: 2000, input: Gen.element(of: Self.alphabet).compactMap { $0 }.string(of: 0...24)) { raw in
            #expect(Self.bytes(Text.trim(raw)) == Self.bytes(Text.trimByCharacter(raw)), "\(raw.debugDescription)")
        }
    }

    @Test func nameNormalizeMatchesAlwaysComposing() async {
        await propertyCheck(count: 2000, input: Gen.element(of: Self.alphabet).compactMap { $0 }.string(of: 0...24)) { raw in
            let collapsed = Text.collapseWhitespaceByCharacter(raw).precomposedStringWithCanonicalMapping
            let expected = collapsed.isEmpty ? nil : collapsed
            #expect(Self.bytes(NameNormalizer.normalize(raw)) == Self.bytes(expected), "\(raw.debugDescription)")
        }
        // Every scalar below U+0300 alone and before a combining mark: NFC changes only the latter.
        for value in 0..<0x300 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let alone = String(Character(scalar))
            #expect(Text.isTriviallyNFC(alone))
            #expect(Array(alone.precomposedStringWithCanonicalMapping.utf8) == Array(alone.utf8), "U+\(String(value, radix: 16))")
            #expect(!Text.isTriviallyNFC(alone + "\u{301}"))
        }
    }

    @Test func foldedNamePartMatchesTheCharacterPath() async {
        await propertyCheck(count: 2000, input: Gen.element(of: Self.asciiAlphabet).compactMap { $0 }.string(of: 0...24)) { raw in
            let name = Text.collapseWhitespaceByCharacter(raw)
            #expect(Self.bytes(NameNormalizer.foldedASCII(name)) == Self.bytes(NameNormalizer.foldedByCharacter(name)), "\(raw.debugDescription)")
        }
        await propertyCheck(count: 2000, input: Gen.element(of: Self.alphabet).compactMap { $0 }.string(of: 0...24)) { raw in
            let expected: String? = {
                guard let name = NameNormalizer.normalize(raw), !IdentifierBlocklist.default.isBlocked(value: name) else { return nil }
                let folded = NameNormalizer.foldedByCharacter(name)
                return folded.isEmpty ? nil : folded
            }()
            #expect(Self.bytes(NameNormalizer.foldedNamePart(raw)) == Self.bytes(expected), "\(raw.debugDescription)")
        }
        #expect(NameNormalizer.foldedASCII("Müller") == nil)
        #expect(NameNormalizer.foldedASCII("  O'Neil-Smith  J.R. ") == "oneil smith jr")
    }

    @Test func phoneCharacterClassesMatchTheUnicodePath() {
        for character in Self.asciiAlphabet + Self.alphabet + ["\r\n", "５", "٣"] {
            #expect(PhoneNormalizer.decimalDigit(character) == PhoneNormalizer.decimalDigitByProperties(character), "\(character.debugDescription)")
            #expect(PhoneNormalizer.isSeparator(character) == PhoneNormalizer.isSeparatorByCharacter(character), "\(character.debugDescription)")
        }
    }

    @Test func phoneExtensionSplitMatchesTheSearch() async {
        let phoneish = Array("0123456789 +-().#xXeEtnsio;=:\t") + ["é", "ẋ", "＃"] as [Character]
        await propertyCheck(count: 3000, input: Gen.element(of: phoneish).compactMap { $0 }.string(of: 0...24)) { raw in
            let fast = PhoneNormalizer.splitExtension(raw), slow = PhoneNormalizer.splitExtensionBySearch(raw)
            #expect(Array(fast.0.utf8) == Array(slow.0.utf8) && fast.1 == slow.1, "\(raw.debugDescription)")
        }
        await propertyCheck(count: 1000, input: Gen.element(of: Self.asciiAlphabet).compactMap { $0 }.string(of: 0...24)) { raw in
            let fast = PhoneNormalizer.splitExtension(raw), slow = PhoneNormalizer.splitExtensionBySearch(raw)
            #expect(Array(fast.0.utf8) == Array(slow.0.utf8) && fast.1 == slow.1, "\(raw.debugDescription)")
        }
    }
}
