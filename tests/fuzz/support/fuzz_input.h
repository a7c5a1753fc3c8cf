/* fuzz_input.h - carving one fuzz input into several values, for the targets
 * whose code under test takes more than one buffer. */
#ifndef SR_FUZZ_INPUT_H
#define SR_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct fuzz_input {
    const uint8_t *p, *end;
} fuzz_input;

static inline fuzz_input fuzz_input_make(const uint8_t *data, size_t size)
{
    return (fuzz_input){data, data + size};
}

/* One byte (0 when the input is used up). */
static inline uint8_t fuzz_byte(fuzz_input *in)
{
    return in->p < in->end ? *in->p++ : 0;
}

/* The bytes up to the next separator byte sep (or the end), separator skipped.
 * Returns 0 when the input is used up. Dictionaries and seeds use the same
 * separator, so the fuzzer keeps whole records apart. */
static inline int fuzz_record(fuzz_input *in, uint8_t sep, const char **s, size_t *n)
{
    if (in->p >= in->end) return 0;
    const uint8_t *q = memchr(in->p, sep, (size_t)(in->end - in->p));
    const uint8_t *stop = q ? q : in->end;
    *s = (const char *)in->p;
    *n = (size_t)(stop - in->p);
    in->p = q ? q + 1 : in->end;
    return 1;
}

/* Copies a record into out, NUL-terminated and cut to cap-1 bytes. */
static inline size_t fuzz_cstr(fuzz_input *in, uint8_t sep, char *out, size_t cap)
{
    const char *s = "";
    size_t n = 0;
    fuzz_record(in, sep, &s, &n);
    if (n > cap - 1) n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
    return n;
}

#endif
