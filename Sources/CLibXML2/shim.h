#ifndef EXPORTWATCH_CLIBXML2_SHIM_H
#define EXPORTWATCH_CLIBXML2_SHIM_H

#include <libxml/xmlversion.h>
// Debian's libxml2 headers pull in the system ICU, whose enums clash with Foundation's own ICU
// in any Swift module that sees both; exportwatch does its own charset decoding, so hide ICU.
#undef LIBXML_ICU_ENABLED

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlmemory.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

/// `xmlFree` is a global function pointer, which Swift cannot call directly.
static inline void ew_xml_free(void *pointer) {
    xmlFree(pointer);
}

/// `xmlParserVersion` is a macro over a per-thread accessor when libxml2 is built with threads.
static inline const char *ew_xml_parser_version(void) {
    return xmlParserVersion;
}

/// `LIBXML_TEST_VERSION` is a statement macro: it checks the headers match the loaded library.
static inline void ew_xml_check_version(void) {
    LIBXML_TEST_VERSION
}

/// Runs a SAX2 parse of `size` bytes with the caller's handler and user data, as
/// xmlSAXUserParseMemory does, but with parser options (which that function cannot take) and an
/// optional encoding that overrides the document's declaration (an HTTP charset). Swift cannot
/// swap the handler of a parser context safely itself, so this does it in one place.
/// Returns 1 when the document was well-formed, 0 when it parsed only with recovery, -1 when no
/// parser context could be made.
static inline int ew_sax_parse(xmlSAXHandler *sax, void *user, const char *buffer, int size,
                               const char *encoding, int options) {
    xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(buffer, size);
    if (ctxt == NULL) return -1;
    xmlSAXHandlerPtr original = ctxt->sax;
    ctxt->sax = sax;
    ctxt->userData = user;
    if (encoding != NULL) {
        xmlCharEncodingHandlerPtr handler = xmlFindCharEncodingHandler(encoding);
        if (handler != NULL) {
            xmlSwitchToEncoding(ctxt, handler);
            options |= XML_PARSE_IGNORE_ENC;
        }
    }
    xmlCtxtUseOptions(ctxt, options);
    xmlParseDocument(ctxt);
    int wellFormed = ctxt->wellFormed;
    // For expat compatibility, libxml2 keeps the entity declarations of a DOCTYPE's internal
    // subset in a document of its own even in SAX mode; xmlFreeParserCtxt leaves it, and
    // xmlSAXUserParseMemory frees it here too.
    if (ctxt->myDoc != NULL) {
        xmlFreeDoc(ctxt->myDoc);
        ctxt->myDoc = NULL;
    }
    ctxt->sax = original;
    ctxt->userData = ctxt;
    xmlFreeParserCtxt(ctxt);
    return wellFormed ? 1 : 0;
}

/// The SAX2 handler's `initialized` field must hold this macro for namespace-aware callbacks.
static inline unsigned int ew_sax2_magic(void) { return XML_SAX2_MAGIC; }

#endif
