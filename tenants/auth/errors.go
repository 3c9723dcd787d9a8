package auth

// GoTrue's error codes (supabase/auth internal/api/errorcodes.go) used by
// this package. auth-js reads them from the error body's "code" (API
// version 2024-01-01) or "error_code".
const (
	CodeValidationFailed          = "validation_failed"
	CodeBadJSON                   = "bad_json"
	CodeEmailExists               = "email_exists"
	CodeBadJWT                    = "bad_jwt"
	CodeNotAdmin                  = "not_admin"
	CodeNoAuthorization           = "no_authorization"
	CodeUserNotFound              = "user_not_found"
	CodeSessionNotFound           = "session_not_found"
	CodeSignupDisabled            = "signup_disabled"
	CodeUserAlreadyExists         = "user_already_exists"
	CodeInvalidCredentials        = "invalid_credentials"
	CodeEmailNotConfirmed         = "email_not_confirmed"
	CodeWeakPassword              = "weak_password"
	CodeSamePassword              = "same_password"
	CodeRefreshTokenNotFound      = "refresh_token_not_found"
	CodeRefreshTokenAlreadyUsed   = "refresh_token_already_used"
	CodePhoneProviderDisabled     = "phone_provider_disabled"
	CodeAnonymousProviderDisabled = "anonymous_provider_disabled"
	CodeUnsupportedGrantType      = "unsupported_grant_type"
	CodeConflict                  = "conflict"
)
