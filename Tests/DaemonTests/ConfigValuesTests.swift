import Testing

@testable import Daemon

@Suite("Configuration values")
struct ConfigValuesTests {
    @Test(
        "durations",
        arguments: [
            ("90s", Duration.seconds(90)), ("15m", .seconds(900)), ("2h", .seconds(7200)), ("1d", .seconds(86400)),
            ("500ms", .milliseconds(500)), ("1h30m", .seconds(5400)),
        ])
    func durations(text: String, expected: Duration) {
        #expect(ConfigValues.duration(text) == expected)
    }

    @Test("not durations", arguments: ["", "fast", "15", "m", "15 minutes", "1.5h", "-5m", "15M"])
    func notDurations(text: String) {
        #expect(ConfigValues.duration(text) == nil)
    }

    @Test(
        "sizes",
        arguments: [
            ("10MiB", 10_485_760), ("512KiB", 524_288), ("1GB", 1_000_000_000), ("2048", 2048), ("64 kb", 64_000),
        ])
    func sizes(text: String, expected: Int) {
        #expect(ConfigValues.byteSize(text) == expected)
    }

    @Test("not sizes, too large ones among them", arguments: ["", "ten", "10 MiB per feed", "-1", "999999999999GiB"])
    func notSizes(text: String) {
        #expect(ConfigValues.byteSize(text) == nil)
    }

    @Test("times of day")
    func timesOfDay() {
        #expect(ConfigValues.timeOfDay("08:00")! == (8, 0))
        #expect(ConfigValues.timeOfDay("23:59")! == (23, 59))
        #expect(ConfigValues.timeOfDay("24:00") == nil)
        #expect(ConfigValues.timeOfDay("8:00") == nil)
    }

    @Test("${NAME} expansion reports unset names")
    func expansion() {
        let (text, missing) = ConfigValues.expandVariables("${A}/x/${B}/${A}", environment: ["A": "/run"])
        #expect(text == "/run/x///run")
        #expect(missing == ["B"])
    }
}
