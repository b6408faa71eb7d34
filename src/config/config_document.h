// The configuration as a document: what the admin API's config endpoints
// show, accept and write.
//
//   GET  (effective) ConfigToJson(config, /*mask_secrets=*/true)
//   GET  (file)      MaskYamlText(file_text, &error)
//   POST             RestoreMasked(posted, file_text, &next, &error)
//                    → LoadConfigString(next, env) must pass
//                    → WriteFileAtomically(path, next, &error)
//
// Secrets are: server.admin_key, keys[].key, providers[].keys[].value, every
// value of providers[].headers, and the password of the store and redis URLs
// (userinfo "user:PASSWORD@" and a "password=" query parameter). Masked, each
// reads "****" (kMask); a URL keeps its shape ("postgres://app:****@db/sy").
// Empty secrets stay empty. Messages from these functions name key paths,
// key names and ids, never a secret.
#pragma once

#include <string>

#include "config/config.h"

namespace sy::config {

// What a masked secret reads.
inline constexpr char kMask[] = "****";

// The effective configuration as one JSON object with the key names of the
// YAML file, so that the JSON, posted back, is itself a valid configuration
// document (JSON is YAML): server{...}, keys[...], providers[...],
// models[...], store, redis, limits{...}, usage{...}, pricing[...].
// - Every field is written, with these exceptions: store and redis when ""
//   (absent = the default), a key's budget when -1 and budget_period when "",
//   an alias's drop_params and pricing when unset, and each price part that
//   is -1. source_path is not configuration and is left out.
// - Prices are written in dollars per 1M tokens (input_per_1m, output_per_1m,
//   cached_input_per_1m, cache_write_per_1m) and budgets in dollars, as exact
//   decimals; large integers as exact integers.
// - Values are effective ones (${VAR} already expanded); a literal "${" in a
//   value is written "$${" so that loading the document gives the same value.
// With mask_secrets every secret is masked (see above).
std::string ConfigToJson(const Config& c, bool mask_secrets);

// The configuration FILE text with every secret masked, except a secret (or
// URL password) made only of ${VAR} references: it is kept, so an operator
// sees which variable is used. Paranoid where the file does not follow the
// schema: a key the schema does not have, at a level that holds secrets
// (top level, server, keys[], providers[], providers[].keys[]), or a value of
// the wrong shape there, has every value beneath it masked.
// The text is parsed and re-emitted (yaml-cpp): comments and the original
// layout are lost; anchors/aliases stay as such.
// Returns the masked text ("" for an empty document) and clears *error; on
// text that is not one YAML document returns "" and sets *error.
// REQUIRES: error != nullptr.
std::string MaskYamlText(const std::string& yaml_text, std::string* error);

// Takes a document posted by an admin (YAML or JSON), typically one made by
// ConfigToJson or MaskYamlText and then edited, and puts back every masked
// secret: a secret whose value is "****", and each "****" password of a store
// or redis URL, is replaced by the raw value (as written in current_text, so
// "${OPENAI_API_KEY}" stays a reference) at the same place in current_text.
// Places are matched by identity, not index: keys[] by name, providers[] by
// id, providers[].keys[] by id, headers by name (exact, else
// case-insensitively).
// A URL whose current value is one ${VAR} (the password is not in the file):
// when the posted URL equals the current value expanded with env and masked,
// the reference is put back whole; a changed URL cannot take the password
// from there (that would write a secret from the environment into the file),
// and is an error.
// A "****" with no counterpart is an error naming its path, e.g. "keys[2].key
// is masked (****) but no key named 'x' exists to take it from; send the
// value". Every problem is reported, separated by "; ".
// On success *out_text is the document as YAML (re-emitted, block style),
// still to be validated with LoadConfigString before it is written.
// REQUIRES: out_text and error are non-null.
bool RestoreMasked(const std::string& next_text, const std::string& current_text, const EnvLookup& env,
                   std::string* out_text, std::string* error);
// The same with the process environment (ProcessEnv()).
bool RestoreMasked(const std::string& next_text, const std::string& current_text, std::string* out_text,
                   std::string* error);

// url with its passwords masked (userinfo password, "password=" query
// parameters; empty ones stay empty). Text without "://" is returned as is.
// A password holding an unescaped '@', '/' or '?' is still masked whole
// (over-masking is the safe mistake).
std::string MaskUrlPassword(const std::string& url);

// Replaces the file at path with text, so that a crash at any point leaves
// either the old or the new file whole:
//   writes path + ".tmp" (the old file's permission bits, else 0600) and
//   fsyncs it; keeps the old file as path + ".previous" (a hard link, else a
//   copy); renames the .tmp over path; fsyncs the directory.
// A path that is a symbolic link is resolved first, so the link stays and its
// target is replaced. On failure returns false with *error set (paths and
// errno text only), removes the .tmp, and leaves the file at path untouched.
// Once the rename is done the new file is in place: if only the final
// directory fsync fails, returns true with a warning in *error (else *error
// is cleared). Not for concurrent writers of one path: callers serialise.
// REQUIRES: error != nullptr.
bool WriteFileAtomically(const std::string& path, const std::string& text, std::string* error);

}  // namespace sy::config
