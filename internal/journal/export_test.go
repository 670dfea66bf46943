package journal

// SecretParams exposes the list of credential parameters to the tests.
func SecretParams() []string { return secretParams[:] }
