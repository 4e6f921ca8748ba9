#ifndef EXPORTWATCH_CCURL_SHIM_H
#define EXPORTWATCH_CCURL_SHIM_H

#include <curl/curl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

// curl_easy_setopt / curl_easy_getinfo / curl_multi_setopt are variadic, which Swift cannot call:
// each wrapper below fixes one argument type.

/// Sets an option whose value is a `long`.
static inline CURLcode ew_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

/// Sets an option whose value is a `curl_off_t` (the *_LARGE options).
static inline CURLcode ew_easy_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/// Sets an option whose value is a C string (curl copies it).
static inline CURLcode ew_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

/// Sets an option whose value is an opaque pointer (callback data, a header list).
static inline CURLcode ew_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/// The signature shared by CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION.
typedef size_t (*ew_data_callback)(char *data, size_t size, size_t count, void *userdata);

/// Sets CURLOPT_WRITEFUNCTION or CURLOPT_HEADERFUNCTION.
static inline CURLcode ew_easy_setopt_data_callback(CURL *handle, CURLoption option, ew_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

/// The signature of CURLOPT_OPENSOCKETFUNCTION, used to vet the address curl is about to connect to.
typedef curl_socket_t (*ew_opensocket_callback)(void *userdata, curlsocktype purpose, struct curl_sockaddr *address);

/// Sets CURLOPT_OPENSOCKETFUNCTION.
static inline CURLcode ew_easy_setopt_opensocket(CURL *handle, ew_opensocket_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, callback);
}

/// Reads an info value of type `long`.
static inline CURLcode ew_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// Reads an info value of type `curl_off_t` (sizes, and times in microseconds).
static inline CURLcode ew_easy_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// Reads an info value that is a C string owned by the handle.
static inline CURLcode ew_easy_getinfo_string(CURL *handle, CURLINFO info, const char **value) {
    return curl_easy_getinfo(handle, info, value);
}

/// Reads CURLINFO_PRIVATE, the pointer stored with CURLOPT_PRIVATE.
static inline CURLcode ew_easy_getinfo_private(CURL *handle, void **value) {
    return curl_easy_getinfo(handle, CURLINFO_PRIVATE, value);
}

/// Sets a multi-handle option whose value is a `long`.
static inline CURLMcode ew_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

/// `CURLVERSION_NOW` is a macro naming the newest struct layout the headers know.
static inline curl_version_info_data *ew_version_info(void) {
    return curl_version_info(CURLVERSION_NOW);
}

/// `CURL_GLOBAL_DEFAULT` is a macro.
static inline CURLcode ew_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}

/// `CURL_SOCKET_BAD` is a macro; an open-socket callback returns it to refuse a connection.
static inline curl_socket_t ew_socket_bad(void) {
    return CURL_SOCKET_BAD;
}

/// `struct curl_sockaddr` ends in a `struct sockaddr` that is really a sockaddr_in or sockaddr_in6;
/// Swift cannot reinterpret it safely, so this copies the IP address out: 4 or 16 bytes into `out`.
/// Returns 4 or 6 for the address family, 0 for any other family.
static inline int ew_sockaddr_ip(const struct curl_sockaddr *address, unsigned char out[16]) {
    if (address->family == AF_INET && address->addrlen >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&address->addr;
        memcpy(out, &v4->sin_addr, 4);
        return 4;
    }
    if (address->family == AF_INET6 && address->addrlen >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&address->addr;
        memcpy(out, &v6->sin6_addr, 16);
        return 6;
    }
    return 0;
}

/// Feature bits of curl_version_info are macros; these expose the ones the daemon relies on.
static inline int ew_feature_libz(void) { return CURL_VERSION_LIBZ; }
static inline int ew_feature_brotli(void) { return CURL_VERSION_BROTLI; }
static inline int ew_feature_zstd(void) { return CURL_VERSION_ZSTD; }
static inline int ew_feature_http2(void) { return CURL_VERSION_HTTP2; }
static inline int ew_feature_ssl(void) { return CURL_VERSION_SSL; }
static inline int ew_feature_ipv6(void) { return CURL_VERSION_IPV6; }

/// `CURLH_HEADER` is a macro; it selects plain response headers for curl_easy_header.
static inline unsigned int ew_header_origin_header(void) { return CURLH_HEADER; }

#endif
