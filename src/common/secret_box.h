// SecretBox: seals secrets that tarnd must store (datastore keys and SAS tokens, token-signing
// keys) with libsodium's crypto_secretbox (XSalsa20-Poly1305) under a 32-byte master key
// kept in its own file, outside the metadata database.
//
// Contract
// - OpenOrCreate reads the key file, or creates it (mode 0600, written and fsynced before use)
//   if it does not exist. A key file readable by group or others, or of the wrong size, is
//   refused: a copied database is useless without the key, so the key must stay private.
// - Seal gives nonce || ciphertext; Open authenticates before it decrypts, so a tampered or
//   foreign blob is an error, never garbage.
// - Thread-safe (immutable after construction). The key is wiped when the box is destroyed.
//
//   TARN_ASSIGN_OR_RETURN(auto box, SecretBox::OpenOrCreate(data_dir + "/master.key"));
//   std::string sealed = box->Seal("secret");
//   TARN_ASSIGN_OR_RETURN(std::string plain, box->Open(sealed));
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace tarn {

class SecretBox {
 public:
  static StatusOr<std::unique_ptr<SecretBox>> OpenOrCreate(const std::string& key_path);
  ~SecretBox();
  SecretBox(const SecretBox&) = delete;
  SecretBox& operator=(const SecretBox&) = delete;

  std::string Seal(const std::string& plaintext) const;
  StatusOr<std::string> Open(const std::string& sealed) const;

 private:
  SecretBox() = default;
  unsigned char key_[32] = {};
};

}  // namespace tarn
