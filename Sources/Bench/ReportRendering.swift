/// The text table `crmsync bench` prints at the end, and the SVG chart it writes.
extension BenchReport {
    /// A plain-text summary: the ceiling, then one row per scale point.
    public func table() -> String {
        var lines: [String] = []
        let lower = min(ceiling.consumeEPS, ceiling.storeEPS)
        lines.append("ceiling: consume \(Self.whole(ceiling.consumeEPS)) msg/s (Kafka wrapper), store \(Self.whole(ceiling.storeEPS)) rows/s (SQLite); lower \(Self.whole(lower))/s")
        let rates = points.first?.latency.map(\.rate) ?? []
        var header = ["records", "events", "events/s", "of ceiling"]
        header += rates.flatMap { ["p50@\($0)/s", "p99@\($0)/s"] }
        header += ["peak RSS", "B/record", "B/event"]
        var rows: [[String]] = [header]
        for point in points {
            var row = [Self.whole(Double(point.records)), Self.whole(Double(point.events)), Self.whole(point.throughputEPS),
                       lower > 0 ? Self.percent(point.throughputEPS / lower) : "–"]
            for rate in rates {
                let latency = point.latency.first { $0.rate == rate }
                row += [Self.milliseconds(latency?.p50), Self.milliseconds(latency?.p99)]
            }
            row += ["\(Self.whole(point.peakRSSMB)) MB", Self.whole(point.bytesPerRecord), Self.whole(point.bytesPerEvent)]
            rows.append(row)
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append(row.indices.map { column in
                let cell = row[column]
                return String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    /// Throughput (bars) and p99 latency at the first rate (line) against the record count.
    public func svgChart() -> String {
        let width = 640.0, height = 360.0, left = 70.0, right = 70.0, top = 40.0, bottom = 50.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let maxThroughput = max(points.map(\.throughputEPS).max() ?? 1, 1) * 1.15
        let p99s = points.map { $0.latency.first?.p99 ?? 0 }
        let maxP99 = max(p99s.max() ?? 1, 1) * 1.15
        let slot = plotWidth / Double(max(points.count, 1))
        var svg = [#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(height))" font-family="sans-serif" font-size="12">"#,
                   #"<rect width="100%" height="100%" fill="white"/>"#,
                   #"<text x="\#(Int(width / 2))" y="20" text-anchor="middle" font-size="14">crmsync bench: throughput and p99 latency by golden records in the store</text>"#,
                   #"<line x1="\#(left)" y1="\#(top + plotHeight)" x2="\#(left + plotWidth)" y2="\#(top + plotHeight)" stroke="black"/>"#,
                   #"<text x="15" y="\#(top - 8)" fill="steelblue">events/s</text>"#,
                   #"<text x="\#(width - 5)" y="\#(top - 8)" text-anchor="end" fill="firebrick">p99 ms\#(points.first?.latency.first.map { " at \($0.rate)/s" } ?? "")</text>"#]
        for tick in 0...4 {
            let fraction = Double(tick) / 4
            let y = top + plotHeight * (1 - fraction)
            svg.append(#"<text x="\#(left - 6)" y="\#(y + 4)" text-anchor="end" fill="steelblue">\#(Self.whole(maxThroughput * fraction))</text>"#)
            svg.append(#"<text x="\#(width - right + 6)" y="\#(y + 4)" fill="firebrick">\#(Self.whole(maxP99 * fraction))</text>"#)
            svg.append(#"<line x1="\#(left)" y1="\#(y)" x2="\#(left + plotWidth)" y2="\#(y)" stroke="gainsboro"/>"#)
        }
        var linePoints: [String] = []
        for (index, point) in points.enumerated() {
            let center = left + slot * (Double(index) + 0.5)
            let barHeight = plotHeight * point.throughputEPS / maxThroughput
            svg.append(#"<rect x="\#(center - slot * 0.3)" y="\#(top + plotHeight - barHeight)" width="\#(slot * 0.6)" height="\#(barHeight)" fill="lightskyblue"/>"#)
            svg.append(#"<text x="\#(center)" y="\#(top + plotHeight + 18)" text-anchor="middle">\#(Self.whole(Double(point.records))) records</text>"#)
            let y = top + plotHeight * (1 - p99s[index] / maxP99)
            linePoints.append("\(center),\(y)")
            svg.append(#"<circle cx="\#(center)" cy="\#(y)" r="4" fill="firebrick"/>"#)
        }
        svg.append(#"<polyline points="\#(linePoints.joined(separator: " "))" fill="none" stroke="firebrick" stroke-width="2"/>"#)
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// 12,345 (no fraction).
    static func whole(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        let digits = String(Int(value.rounded()))
        var result = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0, index % 3 == 0, character != "-" { result.append(",") }
            result.append(character)
        }
        return String(result.reversed())
    }

    static func percent(_ fraction: Double) -> String { "\(Int((fraction * 100).rounded()))%" }

    static func milliseconds(_ value: Double?) -> String {
        guard let value else { return "–" }
        return value < 10 ? "\((value * 10).rounded() / 10) ms" : "\(Int(value.rounded())) ms"
    }
}
