package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"weir.dev/weir/internal/image"
	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/version"
)

// Where weir's image is published, and where its source is.
const (
	imageRepository = "ghcr.io/weir-dev/weir"
	sourceURL       = "https://github.com/weir-dev/weir"
)

func newDevImageCommand() *cobra.Command {
	img := &cobra.Command{
		Use:   "image",
		Short: "weir's container image, built from Go without a container engine",
	}
	img.AddCommand(newDevImageBuildCommand(), newDevImagePushCommand(), newDevImageLoadCommand())
	return img
}

func newDevImageBuildCommand() *cobra.Command {
	opts := image.Options{Package: "./cmd/weir", Name: "weir-image"}
	build := &cobra.Command{
		Use:   "build",
		Short: "Build weir's image for linux/amd64 and linux/arm64 as one OCI index",
		Long: `Build weir's image from the checkout in --source: a static binary on an empty
base, run as UID 65532, for linux/amd64 and linux/arm64, written as an OCI
image layout directory and its tarball under --out. The same commit and Go
toolchain give the same digest.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if opts.Source, err = image.SourceOf(cmd.Context(), opts.SourceDir, sourceURL); err != nil {
				return err
			}
			start := time.Now()
			res, err := image.Build(cmd.Context(), opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s:%s@%s (commit %s) in %s\n", opts.Repository, opts.Tag, res.Index.Digest, opts.Source.Revision, time.Since(start).Round(time.Second))
			fmt.Fprintf(out, "OCI layout %s\narchive %s\n", res.Layout, res.Archive)
			return nil
		},
	}
	build.Flags().StringVar(&opts.SourceDir, "source", ".", "root of weir's source checkout")
	build.Flags().StringVar(&opts.Package, "package", opts.Package, "main package to build, relative to --source (./examples/demo builds the demo workload)")
	build.Flags().StringVar(&opts.Name, "name", opts.Name, "name of the OCI layout directory under --out (and of its tarball, with .tar)")
	build.Flags().StringVar(&opts.OutDir, "out", "bin", "directory for the OCI layout and its tarball")
	build.Flags().StringVar(&opts.Repository, "repository", imageRepository, "repository the image is named in")
	build.Flags().StringVar(&opts.Tag, "tag", version.Version, "tag of the image")
	return build
}

func newDevImagePushCommand() *cobra.Command {
	opts := image.PushOptions{}
	push := &cobra.Command{
		Use:   "push REPOSITORY:TAG",
		Short: "Push the image index `weir dev image build` wrote to a registry",
		Long: `Push the image index in --layout, every platform of it, to a registry under
REPOSITORY:TAG, with the credentials "docker login" stored. The digest
pushed is the one the build printed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Reference = args[0]
			desc, err := image.Push(cmd.Context(), opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s@%s\n", opts.Reference, desc.Digest)
			return nil
		},
	}
	push.Flags().StringVar(&opts.Layout, "layout", "bin/weir-image", "OCI image layout directory the build wrote")
	push.Flags().StringVar(&opts.Tag, "tag", version.Version, "tag of the image in the layout")
	push.Flags().BoolVar(&opts.PlainHTTP, "plain-http", false, "talk to the registry over HTTP")
	return push
}

func newDevImageLoadCommand() *cobra.Command {
	var dir string
	load := &cobra.Command{
		Use:   "load IMAGE.tar...",
		Short: "Import image tarballs into the local cluster's real node",
		Long: `Import image tarballs into the real node of the local cluster in --dir (see
weir dev cluster up --real-node), where pods run them without pulling: as
docker save writes them, or OCI image layouts in a tar that name their
image, as weir dev image build writes them.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := localcluster.Attach(dir)
			if err != nil {
				return err
			}
			for _, tarball := range args {
				if err := c.LoadImage(cmd.Context(), tarball); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Loaded %s into node %s.\n", tarball, localcluster.RealNodeName)
			}
			return nil
		},
	}
	load.Flags().StringVar(&dir, "dir", userCacheDir("dev-cluster"), "directory of the local cluster (as given to `weir dev cluster up`)")
	return load
}
