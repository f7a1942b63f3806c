package users

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/config"
)

// Bootstrap makes sure the first administrator exists: a MASTER named username with
// password, created if no live account has that username. There is no default password;
// deployments pass both from a secret. It reports whether it created the account.
func Bootstrap(ctx context.Context, st *Store, pw *Passwords, username, password string) (bool, error) {
	if _, err := checkUsername(&username); err != nil {
		return false, fmt.Errorf("bootstrap admin: BOOTSTRAP_ADMIN_USERNAME: %w", err)
	}
	if _, err := checkPassword(&password); err != nil {
		return false, fmt.Errorf("bootstrap admin: BOOTSTRAP_ADMIN_PASSWORD: %w", err)
	}
	switch u, err := st.ByUsername(ctx, username); {
	case err == nil:
		if u.Role != auth.RoleMaster {
			slog.WarnContext(ctx, "bootstrap admin: the account exists and is not a MASTER; left as it is", "username", username, "role", u.Role)
		}
		return false, nil
	case !errors.Is(err, ErrNotFound):
		return false, fmt.Errorf("bootstrap admin: %w", err)
	}
	hash, err := pw.Hash(password)
	if err != nil {
		return false, fmt.Errorf("bootstrap admin: %w", err)
	}
	id := uuid.New()
	now := time.Now().UTC()
	err = st.Create(ctx, User{
		ID: id, Username: username, PasswordHash: hash, Role: auth.RoleMaster,
		Name: "Administrator", Nickname: username,
		CreatedAt: now, CreatedBy: id, ModifiedAt: now, ModifiedBy: id,
	})
	if errors.Is(err, ErrDuplicate) {
		return false, nil // another instance created it meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("bootstrap admin: %w", err)
	}
	slog.InfoContext(ctx, "bootstrap admin created", "username", username, "userId", id)
	return true, nil
}

// BootstrapConfigured runs Bootstrap with BOOTSTRAP_ADMIN_USERNAME and
// BOOTSTRAP_ADMIN_PASSWORD when both are set; it is how the migration job and the dev
// stack create the first administrator.
func BootstrapConfigured(ctx context.Context, db *pgxpool.Pool, cfg config.Config) error {
	u, p := cfg.BootstrapAdminUsername, cfg.BootstrapAdminPassword
	if u == "" && p == "" {
		return nil
	}
	if u == "" || p == "" {
		return errors.New("bootstrap admin: set both BOOTSTRAP_ADMIN_USERNAME and BOOTSTRAP_ADMIN_PASSWORD, or neither")
	}
	pw, err := NewPasswords(cfg.BcryptCost)
	if err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}
	_, err = Bootstrap(ctx, NewStore(db, cfg.AccessTokenTTL), pw, u, p)
	return err
}
