/*
 * passphrase.h - where the passphrase of a secret key file comes from.
 *
 * Sources, in order (CLI.md): --passphrase-file FILE, $LODESTONE_PASSPHRASE,
 * a prompt on the controlling terminal. Passphrases are held in
 * sodium_malloc'd memory and wiped when freed.
 */
#ifndef LS_PASSPHRASE_H
#define LS_PASSPHRASE_H

#include <stdbool.h>

#include "err.h"

/* Longest passphrase accepted from any source, in bytes. */
#define LS_PASSPHRASE_MAX 1024

/* Environment variable that holds a passphrase (an empty value counts as unset). */
#define LS_PASSPHRASE_ENV "LODESTONE_PASSPHRASE"

/*
 * Environment variable that, set to a non-empty value other than "0", makes
 * ls_passphrase_get behave as if there were no terminal: for scripts and
 * tests that must not block on a prompt even when /dev/tty can be opened.
 */
#define LS_PASSPHRASE_NO_TTY_ENV "LODESTONE_NO_TTY"

/*
 * Gets a passphrase into *out (NUL-terminated, sodium_malloc'd; the caller
 * frees it with ls_passphrase_free; NULL on failure):
 *
 *   1. passphrase_file, if not NULL: its first line without the line ending
 *      ("\n" or "\r\n"); the file need not be regular (/dev/fd/N works);
 *   2. else $LODESTONE_PASSPHRASE, if set and not empty;
 *   3. else a prompt on /dev/tty with echo off: `prompt` (NULL: "Passphrase: ")
 *      is written to the terminal, and with confirm the passphrase is asked a
 *      second time and must match. confirm applies to the prompt only.
 *      Ctrl-C or Ctrl-D on an empty line cancels.
 *
 * The empty string is a valid passphrase; refusing it is the caller's policy.
 *
 * Fails with:
 *   LS_ERR_INVALID     no source: no file, no variable and no terminal (or
 *                      $LODESTONE_NO_TTY set); ctx says "no passphrase: use
 *                      --passphrase-file, LODESTONE_PASSPHRASE or a terminal".
 *                      Also: the two entries differ, entry cancelled, a NUL
 *                      byte in the passphrase file;
 *   LS_ERR_NOT_FOUND / LS_ERR_IO  passphrase_file cannot be opened or read,
 *                      or the terminal fails;
 *   LS_ERR_TOO_BIG     the passphrase is longer than LS_PASSPHRASE_MAX;
 *   LS_ERR_NOMEM       no (locked) memory.
 * The terminal's settings are restored before returning. No signal handler
 * is installed: the prompt reads with ISIG off and handles Ctrl-C itself.
 */
int ls_passphrase_get(const char *passphrase_file, const char *prompt, bool confirm, char **out,
		      struct ls_err_ctx *ctx);

/* Wipes and frees *p and sets *p to NULL. p and *p may be NULL. */
void ls_passphrase_free(char **p);

#endif
