package localcluster

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki is the set of files that secure one control plane: a CA, the API
// server's serving certificate, an admin client certificate in
// system:masters, and the service-account signing key; and for a real
// node, the kubelet's serving and client certificates and kube-proxy's
// client certificate.
type pki struct {
	CACert, ServingCert, ServingKey, AdminCert, AdminKey, ServiceAccountKey             string
	KubeletServingCert, KubeletServingKey, KubeletCert, KubeletKey, ProxyCert, ProxyKey string
}

// certValidity is long enough for a laptop cluster left running for a year.
const certValidity = 365 * 24 * time.Hour

// writePKI creates a fresh PKI under dir.
func writePKI(dir string) (pki, error) {
	p := pki{
		CACert:            filepath.Join(dir, "ca.crt"),
		ServingCert:       filepath.Join(dir, "apiserver.crt"),
		ServingKey:        filepath.Join(dir, "apiserver.key"),
		AdminCert:         filepath.Join(dir, "admin.crt"),
		AdminKey:          filepath.Join(dir, "admin.key"),
		ServiceAccountKey: filepath.Join(dir, "service-account.key"),

		KubeletServingCert: filepath.Join(dir, "kubelet-serving.crt"),
		KubeletServingKey:  filepath.Join(dir, "kubelet-serving.key"),
		KubeletCert:        filepath.Join(dir, "kubelet.crt"),
		KubeletKey:         filepath.Join(dir, "kubelet.key"),
		ProxyCert:          filepath.Join(dir, "kube-proxy.crt"),
		ProxyKey:           filepath.Join(dir, "kube-proxy.key"),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return p, err
	}
	caKey, ca, err := newCA()
	if err != nil {
		return p, err
	}
	serving := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, net.IPv4(10, 96, 0, 1), net.ParseIP(nodeIP)},
	}
	admin := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "weir-admin", Organization: []string{"system:masters"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	kubeletServing := &x509.Certificate{
		Subject:     pkix.Name{CommonName: nodeName},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{nodeName},
		IPAddresses: []net.IP{net.ParseIP(nodeIP)},
	}
	// The Node authorizer knows a kubelet by this name and group.
	kubelet := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "system:node:" + nodeName, Organization: []string{"system:nodes"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	// RBAC's default system:node-proxier binding names this user.
	proxy := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "system:kube-proxy"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	steps := []func() error{
		func() error { return writePEM(p.CACert, "CERTIFICATE", ca.Raw) },
		func() error { return issue(ca, caKey, serving, p.ServingCert, p.ServingKey) },
		func() error { return issue(ca, caKey, admin, p.AdminCert, p.AdminKey) },
		func() error { _, err := newKeyFile(p.ServiceAccountKey); return err },
		func() error { return issue(ca, caKey, kubeletServing, p.KubeletServingCert, p.KubeletServingKey) },
		func() error { return issue(ca, caKey, kubelet, p.KubeletCert, p.KubeletKey) },
		func() error { return issue(ca, caKey, proxy, p.ProxyCert, p.ProxyKey) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return p, fmt.Errorf("write certificates in %s: %w", dir, err)
		}
	}
	return p, nil
}

func newCA() (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "weir-local-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

// issue signs tmpl with the CA and writes the certificate and a new key.
func issue(ca *x509.Certificate, caKey crypto.Signer, tmpl *x509.Certificate, certPath, keyPath string) error {
	key, err := newKeyFile(keyPath)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(certValidity)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return err
	}
	return writePEM(certPath, "CERTIFICATE", der)
}

func newKeyFile(path string) (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return key, writePEM(path, "EC PRIVATE KEY", der)
}

func writePEM(path, blockType string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600)
}
