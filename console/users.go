package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/store"
)

var adminRoles = []string{accounts.RoleAdmin}

// userRoutes are the admins' user management pages: a platform admin
// manages every tenant's console users, a tenant's admin only their
// tenant's (and never a platform user).
func (s *Server) userRoutes() []Route {
	return []Route{
		{"GET", "/console/users", adminRoles, "Console users in the admin's scope", s.usersPage},
		{"POST", "/console/users", adminRoles, "Create a console user (the generated password is shown once)", s.createUser},
		{"POST", "/console/users/{id}/unlock", adminRoles, "Lift a sign-in lockout", s.userAction},
		{"POST", "/console/users/{id}/disable", adminRoles, "Disable a user (ends their sessions)", s.userAction},
		{"POST", "/console/users/{id}/enable", adminRoles, "Enable a user again", s.userAction},
		{"POST", "/console/users/{id}/password", adminRoles, "Reset a password (the new one is shown once; sessions end)", s.userAction},
	}
}

type usersData struct {
	Users   []accounts.User
	Tenants []store.Tenant
	Roles   []string
	Message string
	// Created and Password are shown once after a create or a reset.
	Created, Password string
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	return s.renderUsers(w, r, sess, usersData{Message: map[string]string{
		"unlock": "Unlocked.", "disable": "Disabled; their sessions ended.", "enable": "Enabled.",
	}[r.URL.Query().Get("done")]})
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, sess *accounts.Session, d usersData) error {
	scope := sess.User.TenantID
	if sess.User.Platform {
		scope = ""
	}
	us, err := s.deps.Accounts.Users(r.Context(), scope)
	if err != nil {
		return err
	}
	d.Users = us
	d.Roles = []string{accounts.RoleReviewer, accounts.RoleLegal, accounts.RoleAdmin}
	if sess.User.Platform {
		if d.Tenants, err = s.deps.Store.Tenants(r.Context()); err != nil {
			return err
		}
	}
	s.render(w, r, http.StatusOK, "users", s.page(r, sess, "Console users", "users", d))
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	tenant := sess.User.TenantID
	if sess.User.Platform && r.PostFormValue("tenant") != "" {
		t, err := s.deps.Store.Tenant(r.Context(), r.PostFormValue("tenant"))
		if err != nil {
			return errorf(http.StatusBadRequest, "No such tenant.")
		}
		tenant = t.ID
	}
	pw := accounts.GeneratePassword()
	u, err := s.deps.Accounts.CreateUser(r.Context(), accounts.NewUser{TenantID: tenant, Email: r.PostFormValue("email"),
		Name: strings.TrimSpace(r.PostFormValue("name")), Role: r.PostFormValue("role"), Password: pw})
	if errors.Is(err, accounts.ErrExists) {
		return errorf(http.StatusConflict, "A user with that email exists.")
	}
	if err != nil {
		if strings.Contains(err.Error(), "email") || strings.Contains(err.Error(), "role") {
			return errorf(http.StatusBadRequest, "%s", err.Error())
		}
		return err
	}
	s.cfg.Logger.Info("console: user created", "by", sess.User.Email, "user", u.Email, "role", u.Role, "tenant", u.TenantName)
	return s.renderUsers(w, r, sess, usersData{Created: u.Email, Password: pw})
}

// userAction unlocks, disables, enables or resets a user in the admin's
// scope; another tenant's user is a 404.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	id, err := parseUUID(r.PathValue("id"))
	if err != nil {
		return errorf(http.StatusNotFound, "No such user.")
	}
	u, err := s.deps.Accounts.User(r.Context(), id)
	if errors.Is(err, accounts.ErrNotFound) || err == nil && !sess.User.Platform && (u.TenantID != sess.User.TenantID || u.Platform) {
		return errorf(http.StatusNotFound, "No such user.")
	}
	if err != nil {
		return err
	}
	action := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	if u.ID == sess.User.ID && action != "password" {
		return errorf(http.StatusBadRequest, "You cannot %s yourself.", action)
	}
	switch action {
	case "unlock":
		err = s.deps.Accounts.Unlock(r.Context(), u.Email)
	case "disable", "enable":
		err = s.deps.Accounts.SetDisabled(r.Context(), u.ID, action == "disable")
	case "password":
		if u.ID == sess.User.ID {
			return errorf(http.StatusBadRequest, "Change your own password under your account.")
		}
		pw := accounts.GeneratePassword()
		if err := s.deps.Accounts.SetPassword(r.Context(), u.ID, pw); err != nil {
			return err
		}
		s.cfg.Logger.Info("console: password reset", "by", sess.User.Email, "user", u.Email)
		return s.renderUsers(w, r, sess, usersData{Created: u.Email, Password: pw, Message: "Password reset; their sessions ended."})
	}
	if err != nil {
		return err
	}
	s.cfg.Logger.Info("console: user "+action, "by", sess.User.Email, "user", u.Email)
	redirect(w, r, "/console/users?done="+action)
	return nil
}
