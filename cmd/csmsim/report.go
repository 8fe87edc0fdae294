package main

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"github.com/csmsim/csmsim/sim/harness"
)

// newReportCmd is `csmsim report FILE.json...`: render JSON reports that
// csmsim run wrote again, as HTML, JUnit or the summary, so that CI need
// keep only the JSON.
func newReportCmd(fs afero.Fs) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "report FILE.json... [--format html|junit|summary] [--out PATH]",
		Short: "Render JSON reports of csmsim run again: as HTML (the timeline needs run --timeline), JUnit or the summary",
		Long: "Render the JSON reports csmsim run --report json wrote, as csmsim run would have written them:\n" +
			"html (one page, a section per scenario), junit or summary. The HTML timeline is drawn from the\n" +
			"JSON's timeline, which csmsim run writes with --timeline; without it the page says the run has none.\n" +
			"The exit status is 0 when the reports were rendered, whether or not their scenarios passed.",
		Example: "  csmsim run scenarios/*.yaml --report json --timeline --out reports/csmsim.json\n" +
			"  csmsim report reports/csmsim.json --format html --out reports/csmsim.html",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			switch format {
			case "html", "junit", "summary":
			default:
				return fmt.Errorf("--format %q: use html, junit or summary", format)
			}
			var reports []*harness.Report
			for _, f := range files {
				rf, err := fs.Open(f)
				if err != nil {
					return fmt.Errorf("%v; give a JSON report that csmsim run --report json wrote", err)
				}
				rs, err := harness.ReadJSON(rf, f)
				rf.Close()
				if err != nil {
					return err
				}
				reports = append(reports, rs...)
			}
			var buf bytes.Buffer
			var err error
			switch format {
			case "html":
				err = harness.WriteHTMLAll(&buf, reports)
			case "junit":
				err = harness.WriteJUnitAll(&buf, reports)
			case "summary":
				for _, r := range reports {
					if err = r.WriteSummary(&buf); err != nil {
						break
					}
				}
			}
			if err != nil {
				return err
			}
			if out != "" {
				return writeReport(fs, out, buf.Bytes())
			}
			_, err = cmd.OutOrStdout().Write(buf.Bytes())
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "html", "html, junit or summary")
	cmd.Flags().StringVar(&out, "out", "", "write to this file instead of stdout")
	return cmd
}

// writeReport writes a report to --out, making its directory first: a CI
// job names reports/junit.xml before anything made reports/.
func writeReport(fs afero.Fs, out string, b []byte) error {
	if err := fs.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("--out %s: %v", out, err)
	}
	return afero.WriteFile(fs, out, b, 0o644)
}
