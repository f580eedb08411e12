/* One-line error messages into a caller's buffer, for the tool modules that report errors as
 * (char *err, size_t errsz) (media_*.c, capture_v4l2.c, window*.c). */
#ifndef VKSTYLE_ERRBUF_H
#define VKSTYLE_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Format into err (if not NULL) and return -1, the modules' failure value. */
static inline int __attribute__((format(printf, 3, 4))) errf(char *err, size_t errsz, const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* In functions with parameters named err and errsz. */
#define ERR(...) errf(err, errsz, __VA_ARGS__)

#endif
