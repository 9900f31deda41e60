/* Throwaway directories for tests that write files (key directories, OpenSSL inputs). */
#ifndef TESTS_TMPDIR_H
#define TESTS_TMPDIR_H

#include <stddef.h>

/* Creates /tmp/<prefix>-XXXXXX into dir (size bytes); exits the test with status 2 when it cannot. */
void tmpdir_make(char *dir, size_t size, const char *prefix);

/* Removes the files directly in dir, then dir (no recursion: tests write flat directories). */
void tmpdir_remove(const char *dir);

/* Writes text to dir/name (replacing it); exits the test with status 2 when it cannot. */
void tmpdir_write(const char *dir, const char *name, const char *text);

#endif
