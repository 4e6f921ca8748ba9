#ifndef EXPORTWATCH_CLIBXML2_SHIM_H
#define EXPORTWATCH_CLIBXML2_SHIM_H

#include <libxml/xmlversion.h>
// Debian's libxml2 headers pull in the system ICU, whose enums clash with Foundation's own ICU
// in any Swift module that sees both; exportwatch does its own charset decoding, so hide ICU.
#undef LIBXML_ICU_ENABLED

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
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

#endif
