import Dedup
import Testing

/// Stored fingerprints are compared with new ones for as long as the story window lasts, and
/// across upgrades: the fingerprint of a text must not change between versions.
@Suite("Fingerprint stability")
struct FingerprintStabilityTests {
    @Test(
        "the fingerprint of a text is the one earlier versions stored",
        arguments: [
            (
                "US adds 37 Chinese entities to export blacklist over military, quantum ties - Reuters",
                "WASHINGTON (Reuters) - The U.S. Commerce Department on Thursday added 37 Chinese entities to its "
                    + "export blacklist. Officials said more would follow.",
                "5f1380219ca7eeec 283216553"
            ),
            (
                "商务部新闻发言人就美方将中国实体列入出口管制“实体清单”答记者问_新华网",
                "新华社北京5月10日电 商务部新闻发言人表示，中方坚决反对美方泛化国家安全概念。美方应立即纠正错误做法。",
                "4cd635b0ac15cc19 0"
            ),
            ("中美 AI 对话在日内瓦举行", nil, "20b5301412e701f0 0"),
        ] as [(String, String?, String)])
    func stable(title: String, summary: String?, expected: String) {
        let (simHash, numbers) = StoryText.fingerprint(title: title, summary: summary)
        #expect("\(simHash?.description ?? "nil") \(numbers)" == expected)
    }
}
