// `npm publish` runs this first (prepublishOnly; `npm pack` does not). Glidepath is installed from a
// packed tarball or a registry its owners choose, never published by accident from a working copy:
// set GLIDEPATH_RELEASE=1 in the release job that means to publish.
if (process.env.GLIDEPATH_RELEASE !== '1') {
  console.error('npm publish refused: set GLIDEPATH_RELEASE=1 in a release job to publish @glidepath-ml/glidepath on purpose.');
  process.exit(1);
}
