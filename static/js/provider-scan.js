/* Reading a voucher's QR code with the camera or from a photo (ZXing, vendored in
   static/vendor/zxing-browser). Whatever is read goes into the code field and the form is
   sent as a POST, exactly as if it had been typed: the server checks the signature.
   Without this script (or without a camera) the page still works by typing the code.

   The reader (440 KB) is loaded only when the camera or a photo is chosen: a typed code, or
   a barcode scanner typing the payload and Enter, never waits for it on a slow line. */
(function () {
  "use strict";

  var section = document.getElementById("qr-reader");
  var form = document.getElementById("scan-form");
  var field = document.getElementById("voucher");
  if (!section || !form || !field) {
    return;
  }

  var status = document.getElementById("qr-status");
  var controlsBox = document.getElementById("camera-controls");
  var startButton = document.getElementById("camera-start");
  var stopButton = document.getElementById("camera-stop");
  var video = document.getElementById("camera-preview");
  var photo = document.getElementById("qr-photo");
  // Keys of the library's DecodeHintType, which the browser bundle does not export.
  var PURE_BARCODE = 1;
  var TRY_HARDER = 3;
  var reader = null; // the readers, made once the library has loaded (withReader)
  // Scans more rows of the picture: for photos, and camera frames read from another side.
  var thoroughReader = null;
  // The whole picture taken as the symbol: a screenshot or a scan of the letter.
  var pureReader = null;
  var waiting = null; // what to do once the library has loaded (the newest choice only)
  // A photo is read with its longer side at SMALL pixels (phone pictures of 12 megapixels
  // decode slowly at full size), then at LARGE for a QR code that is small in the picture.
  var SMALL = 1280;
  var LARGE = 2560;
  var scanning = null;
  var sent = false;
  var cameraTurn = 0; // the side from which the camera's last frame was read again
  var photoRound = 0; // the newest photo chosen: the reading of an older one is dropped

  function say(key) {
    status.textContent = section.getAttribute("data-msg-" + key) || "";
  }

  function show(element, visible) {
    element.classList.toggle("d-none", !visible);
  }

  function submitCode(text) {
    if (sent) {
      return;
    }
    sent = true;
    say("found");
    field.value = text.trim();
    if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  /* The library reads each camera frame upright only; a symbol that misleads that scan (see
     photoPasses) would never be read while the phone is held still, so every frame it
     misses is also read from another side, in turn. */
  function readFrameTurned() {
    cameraTurn = (cameraTurn % 3) + 1;
    if (!video.videoWidth) {
      return null;
    }
    return decodePass({ reader: thoroughReader, side: SMALL, turn: cameraTurn }, video);
  }

  function makeReaders() {
    var ZXing = window.ZXingBrowser;
    reader = new ZXing.BrowserQRCodeReader();
    thoroughReader = new ZXing.BrowserQRCodeReader(new Map([[TRY_HARDER, true]]));
    pureReader = new ZXing.BrowserQRCodeReader(new Map([[PURE_BARCODE, true]]));
  }

  /* Runs `then` with the library loaded: at once the second time, else after adding its
     <script> (same origin: the Content-Security-Policy allows it). A failed load (the line
     dropped) says so and can be tried again with the next click. */
  function withReader(then) {
    if (reader) {
      then();
      return;
    }
    var pending = waiting !== null;
    waiting = then;
    if (pending) {
      return;
    }
    var script = document.createElement("script");
    function failed() {
      waiting = null;
      script.remove();
      show(startButton, true);
      say("unavailable");
    }
    script.src = section.getAttribute("data-reader-src");
    script.onload = function () {
      if (!window.ZXingBrowser) {
        failed();
        return;
      }
      var next = waiting;
      waiting = null;
      makeReaders();
      next();
    };
    script.onerror = failed;
    document.head.appendChild(script);
  }

  function stopCamera() {
    if (scanning) {
      scanning.stop();
      scanning = null;
    }
    show(video, false);
    show(stopButton, false);
    show(startButton, true);
  }

  function startCamera() {
    say("starting");
    show(startButton, false);
    withReader(openCamera);
  }

  function openCamera() {
    reader
      .decodeFromConstraints(
        { audio: false, video: { facingMode: { ideal: "environment" } } },
        video,
        function (result, _error, controls) {
          var text = result ? result.getText() : readFrameTurned();
          if (text) {
            controls.stop();
            scanning = null;
            submitCode(text);
          }
        }
      )
      .then(function (controls) {
        scanning = controls;
        show(video, true);
        show(stopButton, true);
        say("scanning");
      })
      .catch(function () {
        stopCamera();
        show(startButton, false);
        say("denied");
      });
  }

  // The picture's own size: a photo's or a camera frame's.
  function sizeOf(source) {
    return source.videoWidth
      ? { width: source.videoWidth, height: source.videoHeight }
      : { width: source.naturalWidth, height: source.naturalHeight };
  }

  // A canvas with the picture scaled to `side` at most and turned by `turn` quarter turns.
  function canvasFor(source, side, turn) {
    var size = sizeOf(source);
    var scale = Math.min(1, side / Math.max(size.width, size.height));
    var width = Math.max(1, Math.round(size.width * scale));
    var height = Math.max(1, Math.round(size.height * scale));
    var sideways = turn % 2 === 1;
    var canvas = document.createElement("canvas");
    canvas.width = sideways ? height : width;
    canvas.height = sideways ? width : height;
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.fillStyle = "#fff"; // transparent PNGs: light background, dark modules
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.translate(canvas.width / 2, canvas.height / 2);
    context.rotate((turn * Math.PI) / 2);
    context.drawImage(source, -width / 2, -height / 2, width, height);
    return canvas;
  }

  /* The ways a photo is tried, cheapest first. The library scans the picture row by row and
     can take a finder-like run of modules inside the data for a corner mark, then fail on
     a perfectly sharp symbol; which symbols it misses depends on the data and on the
     pixels per module. Scanning the same picture from another side avoids that, and an
     upright screenshot or scan is also read as a pure symbol, without looking for the corner
     marks at all. */
  function photoPasses(image) {
    var passes = [
      { reader: thoroughReader, side: SMALL, turn: 0 },
      { reader: pureReader, side: SMALL, turn: 0 },
      { reader: thoroughReader, side: SMALL, turn: 2 },
      { reader: thoroughReader, side: SMALL, turn: 1 },
      { reader: thoroughReader, side: SMALL, turn: 3 },
    ];
    var size = sizeOf(image);
    if (Math.max(size.width, size.height) > SMALL) {
      passes.push(
        { reader: thoroughReader, side: LARGE, turn: 0 },
        { reader: thoroughReader, side: LARGE, turn: 2 }
      );
    }
    return passes;
  }

  function decodePass(pass, source) {
    try {
      return pass.reader.decodeFromCanvas(canvasFor(source, pass.side, pass.turn)).getText();
    } catch (error) {
      if (error instanceof TypeError || error instanceof ReferenceError) {
        say("no-code");
        throw error; // a fault of this script, not an unreadable photo: let it show
      }
      return null; // not found, or not readable this way
    }
  }

  // One pass per task, so the page stays responsive and a newer photo takes over.
  function decodePhoto(image, round) {
    var passes = photoPasses(image);
    function next(index) {
      if (round !== photoRound) {
        return;
      }
      if (index >= passes.length) {
        say("no-code");
        return;
      }
      var text = decodePass(passes[index], image);
      if (text) {
        submitCode(text);
      } else {
        window.setTimeout(next, 0, index + 1);
      }
    }
    next(0);
  }

  function readPhoto(file) {
    photoRound += 1;
    var round = photoRound;
    say("reading");
    withReader(function () {
      if (round === photoRound) {
        loadPhoto(file, round);
      }
    });
  }

  function loadPhoto(file, round) {
    var url = URL.createObjectURL(file);
    var image = new Image();
    image.onload = function () {
      URL.revokeObjectURL(url);
      decodePhoto(image, round);
    };
    image.onerror = function () {
      URL.revokeObjectURL(url);
      if (round === photoRound) {
        say("no-code");
      }
    };
    image.src = url;
  }

  show(section, true);
  startButton.addEventListener("click", startCamera);
  stopButton.addEventListener("click", function () {
    stopCamera();
    say("stopped");
  });
  if (!window.isSecureContext) {
    say("insecure"); // browsers offer the camera only over HTTPS (and on localhost)
  } else if (navigator.mediaDevices && navigator.mediaDevices.enumerateDevices) {
    // The camera button only where there is a camera: a PC without one gets the photo.
    navigator.mediaDevices.enumerateDevices().then(function (devices) {
      var hasCamera = devices.some(function (device) {
        return device.kind === "videoinput";
      });
      show(controlsBox, hasCamera);
    });
  }

  photo.addEventListener("change", function () {
    if (photo.files && photo.files[0]) {
      readPhoto(photo.files[0]);
      photo.value = ""; // so that choosing the same photo again is read again
    }
  });

  // Leaving the page (or sending the form) turns the camera off.
  window.addEventListener("pagehide", stopCamera);

  // Ready: what scripts/bench_pages and the browser tests wait for.
  form.setAttribute("data-ready", "true");
  if (window.performance && performance.mark) {
    performance.mark("scan-ready");
  }
})();
