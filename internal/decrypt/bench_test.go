package decrypt_test

import (
	"testing"

	"weir.dev/weir/internal/decrypt/decrypttest"
)

// BenchmarkDecryptSecret decrypts an age-encrypted Secret of three values.
func BenchmarkDecryptSecret(b *testing.B) {
	d, data := encryptedSecret(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decrypt("secret.yaml", data, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecryptPlain is the cost every unencrypted file pays.
func BenchmarkDecryptPlain(b *testing.B) {
	d := newDecryptor(b, decrypttest.NewAgeKey(b))
	data := readTestdata(b, "configmap.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decrypt("configmap.yaml", data, false); err != nil {
			b.Fatal(err)
		}
	}
}
