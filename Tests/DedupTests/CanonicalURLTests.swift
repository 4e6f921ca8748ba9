import Dedup
import Testing

@Suite("Canonical URLs")
struct CanonicalURLTests {
    @Test(
        "publishers' variations of one link come out the same",
        arguments: [
            ("HTTPS://WWW.BIS.DOC.GOV/index.php/news", "https://www.bis.doc.gov/index.php/news"),
            ("https://www.bis.gov:443/press", "https://www.bis.gov/press"),
            ("http://example.com:80/a", "http://example.com/a"),
            ("http://example.com:8080/a", "http://example.com:8080/a"),
            ("https://example.com", "https://example.com/"),
            ("https://example.com/a#comments", "https://example.com/a"),
            ("https://example.com/a?utm_source=rss&utm_medium=feed&id=7", "https://example.com/a?id=7"),
            ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
            ("https://example.com/a?fbclid=XYZ&gclid=1&mc_cid=2&mc_eid=3", "https://example.com/a"),
            (
                "https://www.mofcom.gov.cn/art/2024/5/10/art_1.html?spm=a2c.1&from=timeline",
                "https://www.mofcom.gov.cn/art/2024/5/10/art_1.html"
            ),
            ("https://example.com/%7euser/%e5%95%86", "https://example.com/~user/%E5%95%86"),
            ("https://example.com/商务部 公告", "https://example.com/%E5%95%86%E5%8A%A1%E9%83%A8%20%E5%85%AC%E5%91%8A"),
            ("https://example.com/a/./b/../c", "https://example.com/a/c"),
            ("https://example.com./a?", "https://example.com/a"),
            ("https://example.com/a?UTM_Campaign=x&q=chips", "https://example.com/a?q=chips"),
            ("  https://example.com/a  ", "https://example.com/a"),
            ("mailto:press@bis.doc.gov", "mailto:press@bis.doc.gov"),
        ])
    func canonicalization(link: String, canonical: String) {
        #expect(CanonicalURL.canonicalize(link) == canonical)
    }

    @Test("an empty link has no canonical form")
    func emptyLink() {
        #expect(CanonicalURL.canonicalize("  ") == nil)
    }

    @Test("the matching key ignores the scheme, so a move to https changes nothing")
    func matchingKeyIgnoresScheme() {
        #expect(
            CanonicalURL.matchingKey("http://www.bis.gov/press/1?utm_source=x")
                == CanonicalURL.matchingKey("https://www.bis.gov/press/1"))
    }
}
