package query

// Fields returns the error's parts so the server's error mapper can render
// it without importing this package.
func (e *Error) Fields() (code, message, details, hint string) {
	return e.Code, e.Message, e.Details, e.Hint
}
