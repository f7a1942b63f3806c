package deployed

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/8949market/market/shared/auth"
)

// startStorage runs Cloud Storage's stand-in (cmd/objectstore) as a process of its own, on
// an address of its own as storage.googleapis.com is not the gateway. The functions sign
// uploads for it and keep their files in one directory with it (STORAGE_BACKEND=local,
// storageEnv), and it announces each finished upload on the backbone as Cloud Storage's
// notification does: on Pub/Sub its own attributes, pushed to the consumer by the
// emulator's subscription as on GCP; on Kafka, which Cloud Storage cannot notify, the
// CloudEvent it stands for.
func (s *Shape) startStorage() error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	s.StorageURL = "http://" + addr + "/storage"
	s.storageEnv = map[string]string{
		"STORAGE_BACKEND":     "local",
		"STORAGE_DIR":         filepath.Join(s.dir, "storage"),
		"STORAGE_URL":         s.StorageURL,
		"STORAGE_SIGNING_KEY": auth.NewTokenID() + auth.NewTokenID(),
		"UPLOADS_BUCKET":      s.cfg.UploadsBucket,
		"PHOTOS_BUCKET":       s.cfg.PhotosBucket,
	}
	_, port, _ := strings.Cut(addr, ":")
	p, err := start(s.dir, "objectstore", filepath.Join(s.opts.Bin, "objectstore"), nil,
		s.env(map[string]string{"PORT": port, "LISTEN_HOST": "127.0.0.1"}))
	if err != nil {
		return err
	}
	s.infra = append(s.infra, p)
	return p.waitListening(addr, 20*time.Second)
}
