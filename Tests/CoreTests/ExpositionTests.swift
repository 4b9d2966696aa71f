import Core
import Testing

@Suite("The exposition formats: Prometheus text 0.0.4 and OpenMetrics 1.0.0, written from values")
struct ExpositionTests {
    let families = [
        MetricFamily("jobs_done", .counter, help: "Done.", samples: [.value([.init("queue", "q")], 3)]),
        MetricFamily(
            "job_seconds", .histogram, help: "Took.", unit: "seconds",
            samples: [.histogram([.init("queue", "q")], buckets: [.init(le: 0.5, count: 1), .init(le: 1, count: 2)], sum: 1.25, count: 3)]),
        MetricFamily("empty", .gauge, help: "Left out.", samples: []),
    ]

    @Test("the text format: HELP and TYPE under the sample name (counters with _total), cumulative buckets with +Inf")
    func textFormat() {
        #expect(MetricFamily.page(families, format: .text) == """
            # HELP jobs_done_total Done.
            # TYPE jobs_done_total counter
            jobs_done_total{queue="q"} 3
            # HELP job_seconds Took.
            # TYPE job_seconds histogram
            job_seconds_bucket{queue="q",le="0.5"} 1
            job_seconds_bucket{queue="q",le="1"} 2
            job_seconds_bucket{queue="q",le="+Inf"} 3
            job_seconds_sum{queue="q"} 1.25
            job_seconds_count{queue="q"} 3

            """)
    }

    @Test("OpenMetrics: TYPE, UNIT and HELP under the family name, counters' samples with _total, and # EOF")
    func openMetrics() {
        let page = MetricFamily.page(families, format: .openMetrics)
        #expect(page.hasPrefix("# TYPE jobs_done counter\n# HELP jobs_done Done.\njobs_done_total{queue=\"q\"} 3\n"))
        #expect(page.contains("# TYPE job_seconds histogram\n# UNIT job_seconds seconds\n# HELP job_seconds Took.\n"))
        #expect(page.hasSuffix("job_seconds_count{queue=\"q\"} 3\n# EOF\n"))
        #expect(!page.contains("empty"))
    }

    @Test("label values escape backslashes, quotes and line feeds: a hostile pod name stays one sample")
    func escaping() {
        let hostile = MetricFamily("x", .gauge, help: "a \\ b\nc", samples: [.value([.init("pod", "a\"b\\c\nd")], 1)])
        let page = MetricFamily.page([hostile], format: .text)
        #expect(page == "# HELP x a \\\\ b\\nc\n# TYPE x gauge\nx{pod=\"a\\\"b\\\\c\\nd\"} 1\n")
        #expect(page.split(separator: "\n").count == 3)
    }

    @Test("numbers: whole ones without a fraction, others as a Double, infinities and NaN as Prometheus spells them")
    func numbers() {
        #expect(MetricFamily.number(3) == "3")
        #expect(MetricFamily.number(0.001) == "0.001")
        #expect(MetricFamily.number(2097.152) == "2097.152")
        #expect(MetricFamily.number(.infinity) == "+Inf")
        #expect(MetricFamily.number(-.infinity) == "-Inf")
        #expect(MetricFamily.number(.nan) == "NaN")
    }

    @Test("the Accept header picks OpenMetrics only when it names it with a quality above 0")
    func negotiation() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        #expect(ExpositionFormat.negotiated(accept: prometheus) == .openMetrics)
        #expect(ExpositionFormat.negotiated(accept: "text/plain;version=0.0.4") == .text)
        #expect(ExpositionFormat.negotiated(accept: nil) == .text)
        #expect(ExpositionFormat.negotiated(accept: "application/openmetrics-text; q=0") == .text)
        #expect(ExpositionFormat.negotiated(accept: "*/*") == .text)
    }

    @Test("listen addresses: :PORT is every interface, HOST:PORT and [V6]:PORT; anything else is a usage error naming the form")
    func listenAddresses() throws {
        #expect(try ListenAddress(parsing: ":9464") == ListenAddress(host: "0.0.0.0", port: 9464))
        #expect(try ListenAddress(parsing: "127.0.0.1:80") == ListenAddress(host: "127.0.0.1", port: 80))
        #expect(try ListenAddress(parsing: "[::1]:9464") == ListenAddress(host: "::1", port: 9464))
        #expect(try ListenAddress(parsing: "[::1]:9464").description == "[::1]:9464")
        for bad in ["9464", ":", ":99999", "::1:9464", "host:port", ":-1", "[::1:9464", "a b:1", ": 1"] {
            #expect(throws: WorkQueueError.self, "\(bad)") { try ListenAddress(parsing: bad) }
        }
        do {
            _ = try ListenAddress(parsing: "nope")
        } catch {
            #expect(error.exitCode == 64 && error.message.contains("[HOST]:PORT"), "\(error.message)")
        }
    }
}
