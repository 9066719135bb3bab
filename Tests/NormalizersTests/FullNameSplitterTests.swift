import Foundation
import Normalizers
import Testing

/// Issue 14 item 7: full names split into first and last, casing as typed; unsplittable names whole.
@Suite struct FullNameSplitterTests {
    @Test(arguments: [
        ("Carole White", "Carole", "White"),
        ("  mary   jane  watson ", "mary jane", "watson"),          // casing as typed, inner words to the first name
        ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),       // lower-case particles belong to the surname
        ("Juan de la Cruz", "Juan", "de la Cruz"),
        ("Martin Luther King Jr.", "Martin Luther", "King Jr."),   // a generational suffix stays with the surname
        ("White, Carole", "Carole", "White"),                      // "Last, First"
        ("DJ McDonald", "DJ", "McDonald"),
        ("Van Morrison", "Van", "Morrison"),                      // a capitalised "Van" is a first name
    ])
    func splits(raw: String, first: String, last: String) {
        #expect(FullNameSplitter.split(raw) == FullNameSplitter.Parts(first: first, last: last))
    }

    @Test(arguments: ["Cher", "山田 太郎", "김민준", " Madonna "])
    func unsplittableNamesStayWholeAsTheLastName(raw: String) {
        let parts = FullNameSplitter.split(raw)
        #expect(parts?.first == nil)
        #expect(parts?.last == raw.trimmingCharacters(in: .whitespaces))
    }

    @Test func blankIsNil() {
        #expect(FullNameSplitter.split("   ") == nil)
    }
}
