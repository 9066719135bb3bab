import Foundation
import Hummingbird
import NIOCore
import Operations

/// `GET /metrics`: the Prometheus text format, gauges refreshed first.
public struct MetricsRoutes: RouteContributor {
    private let metrics: PipelineMetrics
    private let gauges: ScrapeGauges?

    public init(metrics: PipelineMetrics, gauges: ScrapeGauges?) {
        self.metrics = metrics
        self.gauges = gauges
    }

    public func addRoutes(to router: Router<OperationsRequestContext>) {
        let metrics = self.metrics
        let gauges = self.gauges
        router.get("/metrics") { _, _ -> Response in
            await gauges?.collect(into: metrics)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
        }
    }
}

/// `GET /healthz` (the process answers) and `GET /readyz` (200 when ready, else 503), each with
/// a JSON body saying why.
public struct HealthRoutes: RouteContributor {
    private let readiness: ReadinessProbe

    public init(readiness: ReadinessProbe) {
        self.readiness = readiness
    }

    public func addRoutes(to router: Router<OperationsRequestContext>) {
        let readiness = self.readiness
        router.get("/healthz") { _, _ -> Response in
            Self.json(.ok, ["status": "alive"])
        }
        router.get("/readyz") { _, _ -> Response in
            let report = await readiness.report()
            return Self.json(report.ready ? .ok : .serviceUnavailable, report)
        }
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
