package main

import (
	"crypto/tls"
	"fmt"
)

// serverTLS loads a node's certificate for AUTH TLS.
func serverTLS(certFile, keyFile string) (*tls.Config, error) {
	if keyFile == "" {
		return nil, fmt.Errorf("--tls-cert needs --tls-key")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s / --tls-key %s: %v", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
