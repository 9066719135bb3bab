import Foundation
import Testing

/// The docs are part of the contract: every command docs/contract.md lists must exist with the
/// options it shows, every top-level command must be listed, and every link into docs/ (from
/// code comments, configs, the README or the docs themselves) must reach a file and a heading.
@Suite("docs/ agrees with the code", .timeLimit(.minutes(2)))
struct DocsTests {
    /// GitHub's heading anchor: lower-cased; letters, digits, spaces, `-` and `_` kept; spaces → `-`.
    static func anchor(of heading: String) -> String {
        String(heading.lowercased().unicodeScalars.compactMap { scalar -> Character? in
            if scalar == " " { return "-" }
            if CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_" { return Character(scalar) }
            return nil
        })
    }

    /// The anchors of a Markdown file's headings (fenced code blocks skipped).
    static func anchors(inFile path: String) throws -> Set<String> {
        var result = Set<String>()
        var inFence = false
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inFence.toggle(); continue }
            guard !inFence, line.hasPrefix("#") else { continue }
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
            result.insert(anchor(of: title))
        }
        return result
    }

    /// Text files of the repository that may point into docs/ (build output and fixtures skipped).
    static func repositoryTextFiles() -> [String] {
        let skipped: Set<String> = [".build", ".git", "Fixtures", "Vectors"]
        var files: [String] = []
        for top in ["Sources", "Tests", "config", "topics", "scripts", "docs", "sanitizers", "ops"] {
            let root = "\(repositoryRoot)/\(top)"
            guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
            while let relative = walker.nextObject() as? String {
                if skipped.contains((relative as NSString).lastPathComponent) { walker.skipDescendants(); continue }
                files.append("\(root)/\(relative)")
            }
        }
        return files + ["README.md", "Dockerfile", "docker-compose.yml", "Package.swift"].map { "\(repositoryRoot)/\($0)" }
    }

    static func matches(_ pattern: String, in text: String) throws -> [[String]] {
        let regex = try NSRegularExpression(pattern: pattern)
        let whole = NSRange(text.startIndex..., in: text)
        return regex.matches(in: text, range: whole).map { match in
            (0..<match.numberOfRanges).map { index in
                Range(match.range(at: index), in: text).map { String(text[$0]) } ?? ""
            }
        }
    }

    @Test("every docs/NAME.md#anchor in sources, configs and docs, and every relative link in docs/, reaches a file and heading")
    func linksResolve() throws {
        var checked = 0
        var problems: [String] = []
        func check(file target: String, anchor: String?, from source: String) throws {
            checked += 1
            guard FileManager.default.fileExists(atPath: target) else {
                problems.append("\(source): \(target) does not exist")
                return
            }
            guard let anchor, !anchor.isEmpty, target.hasSuffix(".md") else { return }
            if !(try Self.anchors(inFile: target)).contains(anchor) {
                problems.append("\(source): no heading for #\(anchor) in \((target as NSString).lastPathComponent)")
            }
        }
        for path in Self.repositoryTextFiles() {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            let source = String(path.dropFirst(repositoryRoot.count + 1))
            // `docs/contract.md#identity` written anywhere (code comments, YAML, alert runbook URLs, the README).
            for match in try Self.matches(#"(?<![\w./])docs/([a-z][a-z0-9-]*\.md)(?:#([a-z0-9_-]+))?"#, in: text) {
                try check(file: "\(repositoryRoot)/docs/\(match[1])", anchor: match[2], from: source)
            }
            // Relative Markdown links inside docs/: `(operations.md#configure)`, `(#topics)`, `(../topics/…)`.
            guard source.hasPrefix("docs/"), path.hasSuffix(".md") else { continue }
            let folder = (path as NSString).deletingLastPathComponent
            for match in try Self.matches(#"\]\(([^)#\s]*)(?:#([^)\s]*))?\)"#, in: text) where !match[1].contains("://") {
                let target = match[1].isEmpty ? path : (folder as NSString).appendingPathComponent(match[1])
                try check(file: (target as NSString).standardizingPath, anchor: match[2], from: source)
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect(checked > 50, "the scan found the links (\(checked))")
    }

    /// The lines of the first code block under `## Command line` in docs/contract.md.
    static func documentedCommands() throws -> [String] {
        let text = try String(contentsOfFile: "\(repositoryRoot)/docs/contract.md", encoding: .utf8)
        guard let section = text.range(of: "\n## Command line\n") else { return [] }
        let rest = text[section.upperBound...]
        guard let open = rest.range(of: "```\n"), let close = rest[open.upperBound...].range(of: "```") else { return [] }
        return rest[open.upperBound..<close.lowerBound].split(separator: "\n").map(String.init).filter { $0.hasPrefix("crmsync ") }
    }

    @Test("every command line in contract.md exists, with every option it shows")
    func documentedCommandsExist() async throws {
        let lines = try Self.documentedCommands()
        #expect(lines.count >= 15, "the command block was found")
        for line in lines {
            let words = line.split(separator: " ").dropFirst().prefix { $0.allSatisfy { $0.isLowercase || $0 == "-" } && !$0.hasPrefix("-") }
            let result = try await crmsync(words.map(String.init) + ["--help"])
            #expect(result.status == 0, "\(line): \(result.stderr)")
            // An unknown subcommand answers --help with its parent's usage: require its own.
            #expect(result.stdout.contains("USAGE: crmsync \(words.joined(separator: " "))"), "\(line): not a command")
            for option in try Self.matches(#"--[a-z][a-z-]*"#, in: line).map({ $0[0] }) {
                #expect(result.stdout.contains(option), "\(line): `crmsync \(words.joined(separator: " ")) --help` has no \(option)")
            }
        }
    }

    @Test("every top-level command of the binary is documented in contract.md")
    func everyCommandIsDocumented() async throws {
        let help = try await crmsync(["--help"])
        #expect(help.status == 0)
        guard let section = help.stdout.range(of: "SUBCOMMANDS:") else {
            Issue.record("no SUBCOMMANDS in `crmsync --help`")
            return
        }
        // `  name   abstract`; wrapped abstracts are indented further; a `  See ...` line ends it.
        let names = help.stdout[section.upperBound...].split(separator: "\n")
            .prefix { $0.hasPrefix("  ") }
            .filter { !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
            .filter { $0 != "help" && $0.allSatisfy { $0.isLowercase || $0 == "-" } }
        #expect(names.count >= 10, "\(names)")
        let documented = Set(try Self.documentedCommands().compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) })
        for name in names {
            #expect(documented.contains(name), "`crmsync \(name)` is missing from the command block of docs/contract.md")
        }
    }
}
