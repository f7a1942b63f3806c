package storage

import (
	"context"
	"errors"
	"fmt"

	gcs "cloud.google.com/go/storage"

	"github.com/8949market/market/shared/config"
)

// Open returns the platform's two buckets on the configured backend (STORAGE_BACKEND):
// on gcs, one client for both, signing upload URLs as STORAGE_SIGNER; on local, the
// directories under STORAGE_DIR with URLs of the stand-in at STORAGE_URL, signed with
// STORAGE_SIGNING_KEY.
func Open(ctx context.Context, cfg config.Config) (uploads, photos Bucket, err error) {
	switch cfg.StorageBackend {
	case "gcs":
		client, err := gcs.NewClient(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("open storage: %w", err)
		}
		return NewGCS(client, cfg.UploadsBucket, cfg.StorageSigner), NewGCS(client, cfg.PhotosBucket, cfg.StorageSigner), nil
	case "local":
		if cfg.StorageSigningKey == "" {
			return nil, nil, errors.New("open storage: the local backend signs upload URLs with STORAGE_SIGNING_KEY, which is empty: set it to a random string of at least 32 characters (make dev makes one), the same for every process of the stack")
		}
		key := []byte(cfg.StorageSigningKey)
		up, err := NewLocal(cfg.StorageDir, cfg.UploadsBucket, cfg.StorageURL, key)
		if err != nil {
			return nil, nil, fmt.Errorf("open storage: %w", err)
		}
		ph, err := NewLocal(cfg.StorageDir, cfg.PhotosBucket, cfg.StorageURL, key)
		if err != nil {
			return nil, nil, fmt.Errorf("open storage: %w", err)
		}
		return up, ph, nil
	default:
		return nil, nil, fmt.Errorf("open storage: STORAGE_BACKEND must be gcs or local, got %q", cfg.StorageBackend)
	}
}
