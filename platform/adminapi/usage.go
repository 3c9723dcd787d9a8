package adminapi

import (
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/usage"
)

// getUsage answers GET /projects/{ref}/usage?minutes=60: one point per
// minute, oldest first, with every instance's data and auth requests.
func (a *API) getUsage(c *fiber.Ctx) error {
	minutes := 60
	if v := c.Query("minutes"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > usage.MaxMinutes {
			return apierror.Newf(http.StatusBadRequest, apierror.CodeBadRequest, "minutes must be an integer from 1 to %d", usage.MaxMinutes)
		}
		minutes = n
	}
	series, err := a.d.Usage.Series(c.UserContext(), project(c).Ref, minutes)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"minutes": minutes, "series": series, "totals": usage.Total(series)})
}
