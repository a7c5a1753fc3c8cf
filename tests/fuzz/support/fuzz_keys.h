/* fuzz_keys.h - fixed test keys for the JWT fuzz target: the public half of
 * an RSA-2048 pair made for the fuzz corpus only (its private half signed the
 * RS256 seed tokens and was then thrown away) and an HS256 secret. */
#ifndef SR_FUZZ_KEYS_H
#define SR_FUZZ_KEYS_H

#define FUZZ_HS256_SECRET "fuzz-secret-0123456789"

static const char fuzz_rs256_public_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3XaYNVEhsS8RBXI1eXII\n"
    "qW0Z4PfOggMPdEjPr894cfAY47DHSvxVJNNklfLRCgCg5jZlKVAJ6L+RJDAUGH/b\n"
    "Y4z4fGZRbcDJJ5siF5KOBMD+3wiCGQxchc4NSAFLzt8NiXV/qSHrOciN0TmPDT1f\n"
    "1ziSE411MwMXqgep29iE3z/4TZoT4U5Q+AvQ5x0vsBW8PEL0sXCXGK2mjZbb6PXF\n"
    "SM0nKBz14ncSkEDxItIwpzQhBio+1JgJOL9JKSTcb6BAct/xFnB1fbIrLI4r9Mw3\n"
    "a6OwKDExyjQDeORXrjeHrwhmkizQSp5xYllbHAeKCSRBGhJ9eywDQfziGD2CDaw8\n"
    "aQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

#endif
