package openapi

import "strings"

// ServerURL is the data API's base URL of a project as clients reach it.
func ServerURL(publicURL, ref string) string {
	return strings.TrimRight(publicURL, "/") + "/p/" + ref + "/rest/v1"
}
